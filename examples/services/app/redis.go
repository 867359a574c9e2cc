package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Redis is a minimal client for the commands the service needs, over
// Redis's RESP protocol; one connection per command keeps it simple.
type Redis struct {
	Addr string
}

// Incr increments key and returns its new value.
func (r *Redis) Incr(key string) (int64, error) {
	reply, err := r.do("INCR", key)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(reply, 10, 64)
}

// Del deletes key.
func (r *Redis) Del(key string) error {
	_, err := r.do("DEL", key)
	return err
}

// do sends one command and reads an integer, simple-string or error reply.
func (r *Redis) do(args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", r.Addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case ':', '+':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

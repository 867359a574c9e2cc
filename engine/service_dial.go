package engine

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"
)

// When lading runs on the engine's own host and network (a unix:// socket
// address), it can see a service's ports itself: it dials them while the
// in-container probe runs, and the first to find them all open makes the
// service healthy. A dial costs well under a millisecond; the first
// in-container probe waits for its container (100–300 ms on a loaded
// host). Remote engines (tcp://, ssh://, docker-container://, kube-pod://)
// have other networks, where the service's loopback address means
// something else, so only the in-container probe counts there.

const (
	// dialInterval is the pause between two rounds of dials.
	dialInterval = 10 * time.Millisecond
	// dialGrace is how long the dials run alone before in-container
	// probes start too.
	dialGrace = 250 * time.Millisecond
)

// dials says whether the service's health is looked at by dialing its
// ports: lading shares the engine's network, and the service has ports
// and no health check command.
func (s *service) dials() bool {
	return s.dial && len(s.spec.Check) == 0 && len(s.spec.Ports) > 0
}

// sharesNetwork says whether lading shares the engine's network: its
// address is a local unix socket.
func (e *Engine) sharesNetwork() bool {
	return strings.HasPrefix(e.addr, "unix://") && !e.s.noServiceDial
}

// dialPorts dials the service's ports until all accept, then closes the
// channel it returned; it never does for a service with a health check
// command or without ports, or when lading cannot see its network.
func (s *service) dialPorts(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{})
	if !s.dials() {
		return ch
	}
	go func() {
		t := time.NewTicker(dialInterval)
		defer t.Stop()
		for {
			if allOpen(ctx, s.spec.Addr, s.spec.Ports) {
				close(ch)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return ch
}

// allOpen says whether every port accepts a TCP connection on addr.
func allOpen(ctx context.Context, addr string, ports []int) bool {
	d := net.Dialer{Timeout: 100 * time.Millisecond}
	for _, p := range ports {
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(addr, strconv.Itoa(p)))
		if err != nil {
			return false
		}
		_ = c.Close()
	}
	return true
}

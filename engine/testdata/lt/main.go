// Command lt is a tiny static test tool run inside scratch containers by the
// engine's integration tests, so they need no base image.
//
//	lt echo WORDS...        print words to stdout
//	lt err WORDS...         print words to stderr
//	lt cat FILE             copy a file to stdout
//	lt env NAME             print an env var
//	lt exit CODE [LINES...] print lines to stderr, exit with CODE
//	lt envfail NAME         print an env var to stderr, exit 1
//	lt sleep SECONDS        sleep
//	lt write FILE TEXT      write a file
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "echo":
		fmt.Println(strings.Join(args, " "))
	case "err":
		fmt.Fprintln(os.Stderr, strings.Join(args, " "))
	case "cat":
		dt, err := os.ReadFile(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Stdout.Write(dt)
	case "env":
		fmt.Println(os.Getenv(args[0]))
	case "exit":
		for _, l := range args[1:] {
			fmt.Fprintln(os.Stderr, l)
		}
		code, _ := strconv.Atoi(args[0])
		os.Exit(code)
	case "envfail":
		fmt.Fprintln(os.Stdout, "about to fail")
		fmt.Fprintln(os.Stderr, "value is "+os.Getenv(args[0])+" (end)")
		os.Exit(1)
	case "sleep":
		n, _ := strconv.ParseFloat(args[0], 64)
		time.Sleep(time.Duration(n * float64(time.Second)))
	case "write":
		if err := os.WriteFile(args[0], []byte(args[1]), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	default:
		os.Exit(2)
	}
}

// Command hello is a small HTTP service: the application that
// examples/multistage builds and ships.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

// greeting is the body of GET /.
func greeting(name string) string {
	return fmt.Sprintf("hello, %s\n", name)
}

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "world"
		}
		fmt.Fprint(w, greeting(name))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	return mux
}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()
	log.SetOutput(os.Stderr)
	log.Printf("hello listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, handler()))
}

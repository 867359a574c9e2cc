// Command counter is a small HTTP service that counts visits in Redis:
// every request to / increments a key and answers with its new value.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	redisAddr := flag.String("redis", "localhost:6379", "Redis server")
	flag.Parse()
	store := &Redis{Addr: *redisAddr}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n, err := store.Incr("visits")
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "visit %d\n", n)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}

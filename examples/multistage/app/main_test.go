package main

import (
	"io"
	"net/http/httptest"
	"testing"
)

func TestGreeting(t *testing.T) {
	srv := httptest.NewServer(handler())
	defer srv.Close()
	for query, want := range map[string]string{"": "hello, world\n", "?name=lading": "hello, lading\n"} {
		resp, err := srv.Client().Get(srv.URL + "/" + query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("GET /%s = %q, want %q", query, body, want)
		}
	}
}

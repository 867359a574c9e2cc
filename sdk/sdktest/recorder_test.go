package sdktest_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB whose failures are recorded instead of failing
// the test, so that tests can check the assertions fail, and what they say.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}

// run runs f against a recorder on a goroutine of its own (a fatal
// assertion ends that goroutine, as it would end a test).
func run(t *testing.T, f func(tb testing.TB)) *recorder {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

// lineOf returns "sdktest/<file>:<line>" of the caller, the way plans name
// call sites, with the line moved by delta.
func lineOf(delta int) string {
	_, file, line, _ := runtime.Caller(1)
	i := strings.LastIndex(file, "/sdktest/")
	return fmt.Sprintf("%s:%d", file[i+1:], line+delta)
}

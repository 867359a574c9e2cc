package explain_test

import (
	"testing"

	"github.com/ladingbuild/lading/internal/explain"
)

// FuzzCompareRecords: two records read from files (`lading explain OLD
// NEW`) may be hand-edited or corrupt; comparing them never panics or
// recurses without end, whatever their steps say.
func FuzzCompareRecords(f *testing.F) {
	f.Add([]byte(`{"version":3,"steps":[{"id":"a","op":"exec","key":"k"}]}`),
		[]byte(`{"version":3,"steps":[{"id":"b","op":"exec","key":"k","parents":["c"]},{"id":"c","op":"exec","key":"j","parents":["b"]}]}`))
	cycle := []byte(`{"version":3,"steps":[{"id":"b","op":"exec","key":"k","parents":["c"]},{"id":"c","op":"exec","key":"j","parents":["b"]}]}`)
	f.Add(cycle, cycle)
	f.Add([]byte(`{"version":3,"steps":[{"id":"a","op":"host","key":"k","host":{"path":"/x","files":[["a",420,1,2,3,4,0,0,"00"]]}}]}`),
		[]byte(`{"version":3,"steps":[{"id":"a","op":"exec","key":"k","parents":["a"],"selectors":["/x"]}]}`))
	f.Add([]byte(`{"version":3,"steps":[{"id":"a","op":"from","key":"k","base":{"ref":"x@sha256:1"}}]}`),
		[]byte(`{"version":3,"steps":[{"id":"a","op":"exec","key":"k","parents":["a","a","a"]}]}`))
	f.Fuzz(func(t *testing.T, old, cur []byte) {
		p, err := explain.Decode(old)
		if err != nil {
			return
		}
		c, err := explain.Decode(cur)
		if err != nil {
			return
		}
		_ = explain.Format(explain.Reruns(p, c), len(c.Steps))
		_, _ = explain.Unchanged(p, c)
	})
}

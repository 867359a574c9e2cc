package kubefleet

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// pod is a pod of the test API server: ready or not, with a port named
// buildkitd when port is not zero.
func pod(name string, ready bool, port int32) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ci", Labels: map[string]string{"app": "buildkitd"}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.1"},
	}
	c := corev1.Container{Name: "buildkitd"}
	if port != 0 {
		c.Ports = []corev1.ContainerPort{{Name: "buildkitd", ContainerPort: port}}
	}
	p.Spec.Containers = []corev1.Container{c}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
	return p
}

// apiServer is a stand-in for the Kubernetes API (there is no cluster
// here): it answers the reads discovery makes — one StatefulSet, one
// Deployment, and the pods their selector matches — and points KUBECONFIG
// at itself.
func apiServer(t *testing.T, pods ...corev1.Pod) {
	t.Helper()
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "buildkitd"}}
	ss := appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "buildkitd", Namespace: "ci"},
		Spec: appsv1.StatefulSetSpec{Selector: sel, ServiceName: "buildkitd"}}
	dep := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "buildkitd", Namespace: "ci"}, Spec: appsv1.DeploymentSpec{Selector: sel}}
	list := corev1.PodList{Items: pods}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body any
		switch r.URL.Path {
		case "/apis/apps/v1/namespaces/ci/statefulsets/buildkitd":
			body = ss
		case "/apis/apps/v1/namespaces/ci/deployments/buildkitd":
			body = dep
		case "/api/v1/namespaces/ci/pods":
			if r.URL.Query().Get("labelSelector") != "app=buildkitd" {
				http.Error(w, "bad selector "+r.URL.RawQuery, http.StatusBadRequest)
				return
			}
			body = list
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"%s not found"}`, r.URL.Path)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		assert.NoError(t, json.NewEncoder(w).Encode(body))
	}))
	t.Cleanup(srv.Close)
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: %q}}]
users: [{name: test, user: {token: not-a-secret}}]
contexts: [{name: test, context: {cluster: test, user: test}}]
current-context: test
`, srv.URL)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	t.Setenv("KUBECONFIG", path)
}

func TestDiscoverAddresses(t *testing.T) {
	apiServer(t, pod("buildkitd-1", true, 1234), pod("buildkitd-0", true, 1234), pod("buildkitd-2", false, 1234), pod("nameless", true, 0))
	var log strings.Builder
	for _, tc := range []struct {
		addr string
		want []string
	}{
		{"kube://ci/statefulset/buildkitd", []string{
			"tcp://buildkitd-0.buildkitd.ci.svc:1234", "tcp://buildkitd-1.buildkitd.ci.svc:1234", "kube-pod://nameless?namespace=ci"}},
		{"kube://ci/StatefulSet/buildkitd?host=ip&port=4321", []string{"tcp://127.0.0.1:4321", "tcp://127.0.0.1:4321", "tcp://127.0.0.1:4321"}},
		{"kube://ci/deployment/buildkitd", []string{"tcp://127.0.0.1:1234", "tcp://127.0.0.1:1234", "kube-pod://nameless?namespace=ci"}},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			got, err := Discover(t.Context(), tc.addr, &log)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Contains(t, log.String(), "not ready, left out of the fleet: buildkitd-2")
}

func TestDiscoverErrors(t *testing.T) {
	apiServer(t, pod("buildkitd-0", false, 1234))
	for _, tc := range []struct{ addr, want string }{
		{"kube://ci", "it names no workload"},
		{"kube://ci/daemonset/x", `the kind "daemonset" is neither statefulset nor deployment`},
		{"kube://ci/statefulset/x?port=0", `port "0" is not a port number`},
		{"kube://ci/statefulset/x?host=dhcp", `host="dhcp": want host=ip or host=dns`},
		{"kube://ci/statefulset/x?colour=red", `unknown option "colour"`},
		{"kube://ci/statefulset/missing", "reading StatefulSet ci/missing"},
		{"kube://ci/statefulset/buildkitd", "has no ready pod (1 listed)"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			_, err := Discover(t.Context(), tc.addr, nil)
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := Discover(t.Context(), "kube://ci/statefulset/buildkitd", nil)
	require.ErrorIs(t, err, engine.ErrNoEngine)
}

// proxy forwards a loopback TCP port to the engine's unix socket, so that
// a pod of the test API server can point at a real engine.
func proxy(t *testing.T, unixAddr string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	sock := strings.TrimPrefix(unixAddr, "unix://")
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("unix", sock)
			if err != nil {
				in.Close()
				continue
			}
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestFleetOfPods: a fleet of a Deployment's pods — one reaching the test
// environment's engine, one whose port is closed, one not ready — builds
// on the live one.
func TestFleetOfPods(t *testing.T) {
	env := testenv.Require(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	livePort := proxy(t, env.BuildkitHost)
	apiServer(t, pod("a", true, int32(livePort)), pod("b", true, int32(deadPort)), pod("c", false, 1))

	var log strings.Builder
	e, err := engine.Connect(t.Context(), engine.WithFleet("kube://ci/deployment/buildkitd"), engine.WithLogOutput(&log),
		engine.WithProgress(engine.ProgressQuiet), engine.WithoutExplanations())
	require.NoError(t, err)
	defer e.Close()
	live, dead := fmt.Sprintf("tcp://127.0.0.1:%d", livePort), fmt.Sprintf("tcp://127.0.0.1:%d", deadPort)
	assert.Equal(t, live+","+dead, e.Address())
	assert.Contains(t, log.String(), "engine "+dead+" is unreachable, skipped")
	assert.Contains(t, log.String(), "left out of the fleet: c")
	res, err := e.Build(t.Context(), sdk.Scratch().WithNewFile("/pods", "a fleet of pods"))
	require.NoError(t, err)
	require.NotNil(t, res.Summary.Route)
	assert.Equal(t, live, res.Summary.Route.Engine)
}

// TestKubeAddressAsOneEngine: a kube:// address given as one engine's
// says where it belongs.
func TestKubeAddressAsOneEngine(t *testing.T) {
	_, err := engine.Connect(t.Context(), engine.WithAddress("kube://ci/statefulset/buildkitd"), engine.Silent())
	require.ErrorContains(t, err, "give it to engine.WithFleet or LADING_FLEET")
}

package kubefleet

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ladingbuild/lading/engine"
)

func init() { engine.RegisterFleetDiscovery("kube", Discover) }

// kubeTimeout bounds the API calls of a discovery.
const kubeTimeout = 10 * time.Second

// target is a parsed kube:// fleet address.
type target struct {
	namespace, kind, name string
	port                  int
	podIPs                bool
	context               string
}

// parse parses a kube:// fleet address.
func parse(addr string) (target, error) {
	bad := func(why string) (target, error) {
		return target{}, fmt.Errorf("fleet address %s: %s; want kube://NAMESPACE/statefulset/NAME or kube://NAMESPACE/deployment/NAME (options: ?port=N&host=ip&context=NAME)", quote(addr), why)
	}
	u, err := url.Parse(addr)
	if err != nil {
		return bad(err.Error())
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if u.Host == "" || len(parts) != 2 || parts[1] == "" {
		return bad("it names no workload")
	}
	t := target{namespace: u.Host, kind: strings.ToLower(parts[0]), name: parts[1], context: u.Query().Get("context")}
	switch t.kind {
	case "statefulset", "deployment":
	default:
		return bad(fmt.Sprintf("the kind %s is neither statefulset nor deployment", quote(parts[0])))
	}
	if p := u.Query().Get("port"); p != "" {
		if t.port, err = strconv.Atoi(p); err != nil || t.port < 1 || t.port > 65535 {
			return bad(fmt.Sprintf("port %s is not a port number", quote(p)))
		}
	}
	switch h := u.Query().Get("host"); h {
	case "", "dns":
	case "ip":
		t.podIPs = true
	default:
		return bad(fmt.Sprintf("host=%s: want host=ip or host=dns", quote(h)))
	}
	for k := range u.Query() {
		if !slices.Contains([]string{"port", "host", "context"}, k) {
			return bad(fmt.Sprintf("unknown option %s", quote(k)))
		}
	}
	return t, nil
}

// Discover returns the addresses of the ready pods of the StatefulSet or
// Deployment a kube:// fleet address names, sorted by pod name (see the
// package documentation for the forms). It is the [engine.FleetDiscovery]
// this package registers for kube://; log, when not nil, hears about the
// pods left out because they are not ready.
func Discover(ctx context.Context, addr string, log io.Writer) ([]string, error) {
	t, err := parse(addr)
	if err != nil {
		return nil, err
	}
	pods, err := t.discover(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("fleet address %s: %w", quote(addr), err)
	}
	return pods, nil
}

// discover lists the workload's ready pods and returns their addresses,
// sorted by pod name.
func (t target) discover(ctx context.Context, log io.Writer) ([]string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: t.context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the Kubernetes client configuration (KUBECONFIG, ~/.kube/config or the pod's service account): %w", err)
	}
	cfg.Timeout = kubeTimeout
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("the Kubernetes client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, kubeTimeout)
	defer cancel()
	var (
		sel     *metav1.LabelSelector
		service string
	)
	switch t.kind {
	case "statefulset":
		ss, err := cs.AppsV1().StatefulSets(t.namespace).Get(ctx, t.name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading StatefulSet %s/%s: %w", t.namespace, t.name, err)
		}
		sel, service = ss.Spec.Selector, ss.Spec.ServiceName
	case "deployment":
		d, err := cs.AppsV1().Deployments(t.namespace).Get(ctx, t.name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading Deployment %s/%s: %w", t.namespace, t.name, err)
		}
		sel = d.Spec.Selector
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, fmt.Errorf("the %s %s/%s has no usable pod selector: %w", t.kind, t.namespace, t.name, err)
	}
	if selector.Empty() {
		return nil, fmt.Errorf("the %s %s/%s has an empty pod selector: it would match every pod of the namespace", t.kind, t.namespace, t.name)
	}
	list, err := cs.CoreV1().Pods(t.namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, fmt.Errorf("listing the pods of %s %s/%s: %w", t.kind, t.namespace, t.name, err)
	}
	pods := slices.Clone(list.Items)
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	var addrs, notReady []string
	for i := range pods {
		p := &pods[i]
		if !podReady(p) {
			notReady = append(notReady, p.Name)
			continue
		}
		addrs = append(addrs, t.address(p, service))
	}
	if log != nil && len(notReady) > 0 {
		fmt.Fprintf(log, "lading: warning: pods of %s %s/%s not ready, left out of the fleet: %s\n", t.kind, t.namespace, t.name, strings.Join(notReady, ", "))
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: the %s %s/%s has no ready pod (%d listed)", engine.ErrNoEngine, t.kind, t.namespace, t.name, len(pods))
	}
	return addrs, nil
}

// address is how the fleet reaches a pod.
func (t target) address(p *corev1.Pod, service string) string {
	port := t.port
	if port == 0 {
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == "buildkitd" {
					port = int(cp.ContainerPort)
				}
			}
		}
	}
	if port == 0 {
		return "kube-pod://" + p.Name + "?namespace=" + url.QueryEscape(t.namespace)
	}
	host := p.Status.PodIP
	if service != "" && !t.podIPs {
		host = p.Name + "." + service + "." + t.namespace + ".svc"
	}
	return "tcp://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// podReady reports whether a pod runs, is Ready and is not being deleted.
func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// quote quotes s for an error message.
func quote(s string) string { return strconv.Quote(s) }

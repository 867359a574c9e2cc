package docs

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// manifests are the fleet's Kubernetes objects in docs/fleet, decoded.
type manifests struct {
	configMaps   map[string]*corev1.ConfigMap
	secrets      map[string]*corev1.Secret
	services     map[string]*corev1.Service
	statefulSets map[string]*appsv1.StatefulSet
	pdbs         map[string]*policyv1.PodDisruptionBudget
	accounts     map[string]*corev1.ServiceAccount
	roles        map[string]*rbacv1.Role
	bindings     map[string]*rbacv1.RoleBinding
	jobs         map[string]*batchv1.Job
}

// decodeStrict decodes one YAML document into obj, rejecting fields the
// Kubernetes type does not have, and records it under its name.
func decodeStrict[T any](t *testing.T, where string, doc []byte, into map[string]*T, meta func(*T) *metav1.ObjectMeta) {
	t.Helper()
	obj := new(T)
	require.NoError(t, yaml.UnmarshalStrict(doc, obj), "%s: not a valid object of its kind", where)
	m := meta(obj)
	require.NotEmpty(t, m.Name, "%s: no name", where)
	assert.Equal(t, "buildkit", m.Namespace, "%s: namespace", where)
	_, dup := into[m.Name]
	require.False(t, dup, "%s: %s defined twice", where, m.Name)
	into[m.Name] = obj
}

// loadManifests decodes every document of docs/fleet/*.yaml by its kind.
func loadManifests(t *testing.T) manifests {
	t.Helper()
	ms := manifests{
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		services: map[string]*corev1.Service{}, statefulSets: map[string]*appsv1.StatefulSet{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, accounts: map[string]*corev1.ServiceAccount{},
		roles: map[string]*rbacv1.Role{}, bindings: map[string]*rbacv1.RoleBinding{}, jobs: map[string]*batchv1.Job{},
	}
	files, err := filepath.Glob("fleet/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		dt, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, doc := range bytes.Split(dt, []byte("\n---\n")) {
			where := fmt.Sprintf("%s document %d", f, i+1)
			var tm metav1.TypeMeta
			require.NoError(t, yaml.Unmarshal(doc, &tm), where)
			switch tm.APIVersion + " " + tm.Kind {
			case "v1 ConfigMap":
				decodeStrict(t, where, doc, ms.configMaps, func(o *corev1.ConfigMap) *metav1.ObjectMeta { return &o.ObjectMeta })
			case "v1 Secret":
				decodeStrict(t, where, doc, ms.secrets, func(o *corev1.Secret) *metav1.ObjectMeta { return &o.ObjectMeta })
			case "v1 Service":
				decodeStrict(t, where, doc, ms.services, func(o *corev1.Service) *metav1.ObjectMeta { return &o.ObjectMeta })
			case "v1 ServiceAccount":
				decodeStrict(t, where, doc, ms.accounts, func(o *corev1.ServiceAccount) *metav1.ObjectMeta { return &o.ObjectMeta })
			case "apps/v1 StatefulSet":
				decodeStrict(t, where, doc, ms.statefulSets, func(o *appsv1.StatefulSet) *metav1.ObjectMeta { return &o.ObjectMeta })
			case "policy/v1 PodDisruptionBudget":
				decodeStrict(t, where, doc, ms.pdbs, func(o *policyv1.PodDisruptionBudget) *metav1.ObjectMeta { return &o.ObjectMeta })
			case "rbac.authorization.k8s.io/v1 Role":
				decodeStrict(t, where, doc, ms.roles, func(o *rbacv1.Role) *metav1.ObjectMeta { return &o.ObjectMeta })
			case "rbac.authorization.k8s.io/v1 RoleBinding":
				decodeStrict(t, where, doc, ms.bindings, func(o *rbacv1.RoleBinding) *metav1.ObjectMeta { return &o.ObjectMeta })
			case "batch/v1 Job":
				decodeStrict(t, where, doc, ms.jobs, func(o *batchv1.Job) *metav1.ObjectMeta { return &o.ObjectMeta })
			default:
				t.Fatalf("%s: unexpected kind %q %q", where, tm.APIVersion, tm.Kind)
			}
		}
	}
	return ms
}

// TestStrictDecodingRejectsUnknownFields: the decoding the manifests pass
// fails on a misspelt field, so that passing means something.
func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	t.Parallel()
	bad := []byte("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x}\nspec: {maxUnavalable: 1}\n")
	require.ErrorContains(t, yaml.UnmarshalStrict(bad, &policyv1.PodDisruptionBudget{}), "maxUnavalable")
}

// TestFleetManifests checks docs/fleet offline: each object decodes into
// its Kubernetes type with no unknown field, and they fit together —
// selectors match the pods' labels, the headless Service and the ports
// agree, every volume, Secret and ConfigMap named exists, the daemons run
// rootless with resource requests, and the CI job's fleet address names
// the StatefulSet that its role may read.
func TestFleetManifests(t *testing.T) {
	t.Parallel()
	ms := loadManifests(t)
	ss := ms.statefulSets["buildkitd"]
	require.NotNil(t, ss, "the StatefulSet buildkitd")
	pod := ss.Spec.Template
	podLabels := labels.Set(pod.Labels)
	matches := func(what string, sel *metav1.LabelSelector) {
		t.Helper()
		s, err := metav1.LabelSelectorAsSelector(sel)
		require.NoError(t, err, what)
		assert.False(t, s.Empty(), "%s selects everything", what)
		assert.True(t, s.Matches(podLabels), "%s %s does not select the pods (%v)", what, s, podLabels)
	}
	matches("the StatefulSet's selector", ss.Spec.Selector)
	require.NotNil(t, ss.Spec.Replicas)
	assert.GreaterOrEqual(t, *ss.Spec.Replicas, int32(2), "a fleet")

	// The headless Service.
	svc := ms.services[ss.Spec.ServiceName]
	require.NotNil(t, svc, "the StatefulSet's service %q", ss.Spec.ServiceName)
	assert.Equal(t, corev1.ClusterIPNone, svc.Spec.ClusterIP, "headless")
	assert.True(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels), "the Service selects the pods")

	// The daemon container: rootless, TLS from the Secret, requests.
	require.Len(t, pod.Spec.Containers, 1)
	c := pod.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	require.Contains(t, ports, "buildkitd", "kube:// discovery finds the port by the name buildkitd")
	for _, p := range svc.Spec.Ports {
		if p.TargetPort.StrVal != "" {
			assert.Contains(t, ports, p.TargetPort.StrVal, "the Service's target port")
		} else {
			assert.Contains(t, slices.Collect(maps.Values(ports)), p.TargetPort.IntVal, "the Service's target port")
		}
	}
	assert.Contains(t, c.Args, fmt.Sprintf("--addr=tcp://0.0.0.0:%d", ports["buildkitd"]), "the daemon listens on the port")
	for _, flag := range []string{"--tlscacert=", "--tlscert=", "--tlskey="} {
		assert.True(t, slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, flag+"/certs/") }), "%s from the mounted Secret", flag)
	}
	assert.True(t, strings.HasSuffix(c.Image, "-rootless"), "the rootless image")
	psc := pod.Spec.SecurityContext
	require.NotNil(t, psc)
	require.NotNil(t, psc.RunAsUser)
	assert.NotZero(t, *psc.RunAsUser, "not root")
	assert.True(t, psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
	if c.SecurityContext != nil && c.SecurityContext.Privileged != nil {
		assert.False(t, *c.SecurityContext.Privileged, "not privileged")
	}
	assert.False(t, c.Resources.Requests.Cpu().IsZero(), "a CPU request")
	assert.False(t, c.Resources.Requests.Memory().IsZero(), "a memory request")
	assert.NotNil(t, c.ReadinessProbe, "ready only when the daemon answers")

	// Every volume mounted exists, and what it names exists.
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	for _, vc := range ss.Spec.VolumeClaimTemplates {
		volumes[vc.Name] = corev1.Volume{Name: vc.Name}
		assert.False(t, vc.Spec.Resources.Requests.Storage().IsZero(), "claim %s has a size", vc.Name)
	}
	for _, m := range c.VolumeMounts {
		assert.Contains(t, volumes, m.Name, "mount %s", m.MountPath)
	}
	for _, v := range volumes {
		if v.Secret != nil {
			assert.Contains(t, ms.secrets, v.Secret.SecretName, "volume %s", v.Name)
			for _, k := range []string{"ca.pem", "cert.pem", "key.pem"} {
				assert.Contains(t, ms.secrets[v.Secret.SecretName].Data, k)
			}
		}
		if v.ConfigMap != nil {
			assert.Contains(t, ms.configMaps, v.ConfigMap.Name, "volume %s", v.Name)
		}
	}

	// The disruption budget keeps all but one engine up.
	pdb := ms.pdbs["buildkitd"]
	require.NotNil(t, pdb)
	matches("the PodDisruptionBudget's selector", pdb.Spec.Selector)
	require.NotNil(t, pdb.Spec.MaxUnavailable)
	assert.Equal(t, 1, pdb.Spec.MaxUnavailable.IntValue())

	// The CI job: its fleet address names the StatefulSet, its service
	// account may read it and list pods, its client certificate exists.
	job := ms.jobs["ci"]
	require.NotNil(t, job)
	js := job.Spec.Template.Spec
	env := map[string]string{}
	for _, e := range js.Containers[0].Env {
		env[e.Name] = e.Value
	}
	assert.Equal(t, fmt.Sprintf("kube://%s/statefulset/%s", ss.Namespace, ss.Name), env["LADING_FLEET"])
	assert.NotEmpty(t, env["LADING_FLEET_CACHE"])
	require.Contains(t, ms.accounts, js.ServiceAccountName)
	var rb *rbacv1.RoleBinding
	for _, b := range ms.bindings {
		if slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool { return s.Kind == "ServiceAccount" && s.Name == js.ServiceAccountName }) {
			rb = b
		}
	}
	require.NotNil(t, rb, "a RoleBinding for %s", js.ServiceAccountName)
	role := ms.roles[rb.RoleRef.Name]
	require.NotNil(t, role, "the bound Role %s", rb.RoleRef.Name)
	allows := func(group, resource, verb, name string) bool {
		return slices.ContainsFunc(role.Rules, func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) &&
				(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name))
		})
	}
	assert.True(t, allows("apps", "statefulsets", "get", ss.Name), "the role may read the StatefulSet")
	assert.True(t, allows("", "pods", "list", ""), "the role may list pods")
	for _, v := range js.Volumes {
		if v.Secret != nil {
			assert.Contains(t, ms.secrets, v.Secret.SecretName)
		}
	}
}

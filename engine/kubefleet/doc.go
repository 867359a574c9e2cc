// Package kubefleet finds a fleet's engines on Kubernetes: importing it
// makes fleet addresses ([engine.WithFleet], LADING_FLEET) of the form
//
//	kube://NAMESPACE/statefulset/NAME
//	kube://NAMESPACE/deployment/NAME
//
// stand for the ready pods of that StatefulSet or Deployment, listed
// through the Kubernetes API with client-go when Connect dials the fleet.
// The client configuration is the usual one: KUBECONFIG or
// ~/.kube/config, else the pod's service account when the program runs
// in a cluster. Each ready pod becomes one engine of the fleet, sorted by
// name:
//
//   - tcp://POD.SERVICE.NAMESPACE.svc:PORT for a StatefulSet with a
//     (headless) service, the stable name its certificate can carry;
//   - tcp://POD-IP:PORT for a Deployment, or with host=ip;
//   - kube-pod://POD?namespace=NAMESPACE (BuildKit's connection helper,
//     which runs kubectl exec) for a pod with no port.
//
// PORT is the port= query parameter, else the pod's container port named
// "buildkitd". Query parameters: port=N, host=ip or host=dns, context=NAME
// (the kubeconfig context). A StatefulSet keeps its pods' names, so a key
// stays on the same pod across restarts; a Deployment's pods get new
// names, and their keys move when a pod is replaced.
//
// The package is apart from engine so that programs that do not use it
// do not link client-go. See docs/fleet.md for the manifests.
//
//	import _ "github.com/ladingbuild/lading/engine/kubefleet"
package kubefleet

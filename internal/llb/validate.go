package llb

import "fmt"

// Validate reports the first problem of a model value (*Container,
// *Directory or *File) that would make compiling or building it fail before
// anything reaches the daemon: an error recorded by a builder, a path
// mounted twice, two different secrets under one name. sdktest's plans and
// the compiler both call it, so a unit test rejects what a build would.
func Validate(m any) error {
	var root *Node
	switch m := m.(type) {
	case *Container:
		if m == nil {
			return fmt.Errorf("compile: nil container")
		}
		if m.Err != nil {
			return m.Err
		}
		if err := checkMounts(m.Mounts); err != nil {
			return err
		}
		root = m.Root
	case *Directory:
		if m == nil {
			return fmt.Errorf("compile: nil directory")
		}
		if m.Err != nil {
			return m.Err
		}
		root = m.Root
	case *File:
		if m == nil {
			return fmt.Errorf("compile: nil file")
		}
		if m.Err != nil {
			return m.Err
		}
		root = m.Root
	default:
		return unsupported(m)
	}
	return checkSecrets(root)
}

// checkMounts refuses a container path mounted twice.
func checkMounts(mounts []Mount) error {
	seen := map[string]Location{}
	for _, mt := range mounts {
		if prev, ok := seen[mt.Target]; ok {
			return Invalid(mt.Loc, "mount", "path", fmt.Sprintf("%s is already mounted by the step at %s", Quote(mt.Target), prev), "mount each path once, or remove the first mount with WithoutMount")
		}
		seen[mt.Target] = mt.Loc
	}
	return nil
}

// checkSecrets refuses two different secrets under one name anywhere in
// the graph: the engine serves secrets by name.
func checkSecrets(root *Node) error {
	seen := map[string]*Secret{}
	check := func(s *Secret, loc Location) error {
		if s == nil {
			return nil
		}
		if prev, ok := seen[s.Name]; ok && !sameSecret(prev, s) {
			return Invalid(loc, "secret", "name", "two different secrets are named "+Quote(s.Name), "give each secret its own name")
		}
		seen[s.Name] = s
		return nil
	}
	for _, n := range postOrder(root) {
		op, ok := n.Op.(*ExecOp)
		if !ok {
			continue
		}
		for _, m := range op.Mounts {
			if err := check(m.Secret, m.Loc); err != nil {
				return err
			}
		}
		for _, se := range op.SecretEnv {
			if err := check(se.Secret, n.Loc); err != nil {
				return err
			}
		}
	}
	return nil
}

func sameSecret(a, b *Secret) bool {
	return a.Env == b.Env && a.File == b.File && string(a.Value) == string(b.Value)
}

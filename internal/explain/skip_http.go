package explain

// pinnedHTTP reports whether a download step is verified against a
// checksum: sdk.HTTP's, or the lock's compiled in. One without (sdk.HTTP(url,
// "") in a live build) gets whatever the server sends, which no record
// can vouch for.
func pinnedHTTP(s *Step) bool {
	for _, in := range s.Inputs {
		if in.Kind == "arg" && in.Name == "checksum" {
			return in.Value != ""
		}
	}
	return false
}

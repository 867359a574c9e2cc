package explain

// FilesRead is how many files HashHost has read so far.
func FilesRead() int64 { return filesRead.Load() }

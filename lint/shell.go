package lint

import (
	"path"
	"strings"
)

// command is one simple command of a step: its words, with wrappers
// (sudo, env, exec, VAR=value) removed, and the operator after it ("|",
// "&&", ";"…, "" at the end).
type command struct {
	words []string
	next  string
}

// name is the command's program, without its directory.
func (c command) name() string {
	if len(c.words) == 0 {
		return ""
	}
	return path.Base(c.words[0])
}

// shells run the script that follows -c.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true}

// script returns the shell script argv runs (sh -c SCRIPT, bash -ec
// SCRIPT…), if it runs one.
func script(argv []string) (string, bool) {
	if len(argv) < 3 || !shells[path.Base(argv[0])] {
		return "", false
	}
	for i := 1; i < len(argv)-1; i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "-") || a == "--" {
			return "", false
		}
		if strings.Contains(a, "c") && !strings.HasPrefix(a, "--") {
			return argv[i+1], true
		}
	}
	return "", false
}

// commands splits what argv runs into simple commands: argv itself, or the
// commands of its shell script. It reads scripts word by word, with
// quotes, operators and subshells, not as a full shell would: good enough
// to find the programs a step runs and their arguments.
func commands(argv []string) []command {
	s, ok := script(argv)
	if !ok {
		return []command{{words: unwrap(argv)}}
	}
	var out []command
	for _, c := range splitScript(s) {
		if inner, ok := script(c.words); ok {
			out = append(out, splitScript(inner)...)
			continue
		}
		out = append(out, c)
	}
	return out
}

// splitScript tokenizes a shell script into commands.
func splitScript(s string) []command {
	var (
		out   []command
		words []string
		word  strings.Builder
		inW   bool
		quote byte
	)
	flushWord := func() {
		if inW {
			words = append(words, word.String())
			word.Reset()
			inW = false
		}
	}
	end := func(op string) {
		flushWord()
		if len(words) > 0 || op != "" {
			out = append(out, command{words: unwrap(words), next: op})
		}
		words = nil
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if quote != 0 {
			switch {
			case ch == quote:
				quote = 0
			case ch == '\\' && quote == '"' && i+1 < len(s):
				i++
				word.WriteByte(s[i])
			default:
				word.WriteByte(ch)
			}
			continue
		}
		switch ch {
		case '\'', '"':
			quote, inW = ch, true
		case '\\':
			if i+1 < len(s) && s[i+1] != '\n' {
				i++
				word.WriteByte(s[i])
				inW = true
			} else {
				i++
			}
		case ' ', '\t':
			flushWord()
		case '#':
			if inW {
				word.WriteByte(ch)
				continue
			}
			for i < len(s) && s[i] != '\n' {
				i++
			}
			end(";")
		case '\n', ';', '(', ')', '`', '{', '}':
			end(";")
		case '|', '&':
			op := string(ch)
			if i+1 < len(s) && s[i+1] == ch {
				op += string(ch)
				i++
			}
			end(op)
		case '$', '<', '>':
			if i+1 < len(s) && s[i+1] == '(' {
				end(";")
				i++
				continue
			}
			if ch != '$' {
				flushWord()
				words = append(words, string(ch))
				continue
			}
			word.WriteByte(ch)
			inW = true
		default:
			word.WriteByte(ch)
			inW = true
		}
	}
	end("")
	return out
}

// wrappers run the command that follows them.
var wrappers = map[string]bool{"sudo": true, "env": true, "exec": true, "command": true, "time": true, "nohup": true, "nice": true}

// unwrap drops wrappers and leading VAR=value assignments.
func unwrap(words []string) []string {
	for len(words) > 0 {
		w := words[0]
		switch {
		case wrappers[path.Base(w)]:
			words = words[1:]
			for len(words) > 0 && strings.HasPrefix(words[0], "-") {
				words = words[1:]
			}
		case isAssignment(w):
			words = words[1:]
		default:
			return words
		}
	}
	return words
}

func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
		digit := i > 0 && c >= '0' && c <= '9'
		if !letter && !digit {
			return false
		}
	}
	return true
}

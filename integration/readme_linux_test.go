package integration

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeExamples runs every example of the README written as a
// ".. code-block:: console" block ("$ command" lines, each followed by its
// output) on a known set of sockets in a private network namespace, and
// requires that output exactly, exit code aside. The sockets:
//
//	127.0.0.1:5432   tcp listener, 6 connections from 127.0.0.1 (12 ESTABLISHED)
//	127.0.0.1:8080   tcp listener, 4 connections the clients closed
//	                 (4 CLOSE_WAIT, 4 FIN_WAIT2)
//	[::1]:443        tcp6 listener, 2 connections (4 ESTABLISHED)
//	3 udp sockets on 127.0.0.1, 1 udp6 socket on ::1
//
// Blocks written with :: are not run: their output depends on the host
// (containers, process ids).
func TestReadmeExamples(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(repo, "README.rst"))
	if err != nil {
		t.Fatal(err)
	}
	examples := consoleExamples(string(text))
	if len(examples) < 8 {
		t.Fatalf("%d console examples in the README; want them all found", len(examples))
	}
	if !inPrivateNetns(t) {
		return
	}
	readmeSockets(t)
	for _, ex := range examples {
		t.Run(ex.command, func(t *testing.T) {
			argv := shellWords(t, ex.command)
			if argv[0] != "network-connections" {
				t.Fatalf("an example of another program: %q", ex.command)
			}
			out, _ := exec.Command(binary, argv[1:]...).Output()
			if got := strings.TrimRight(string(out), "\n"); got != ex.output {
				t.Errorf("README.rst line %d says:\n%s\nthe binary says:\n%s", ex.line, ex.output, got)
			}
		})
	}
}

type example struct {
	command, output string
	line            int
}

// consoleExamples finds the "$ command" lines of the console blocks and the
// output under each; a command may go on over lines ending in a backslash.
func consoleExamples(text string) []example {
	var out []example
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != ".. code-block:: console" {
			continue
		}
		i++
		for ; i < len(lines) && (lines[i] == "" || strings.HasPrefix(lines[i], "    ")); i++ {
			l := strings.TrimPrefix(lines[i], "    ")
			if !strings.HasPrefix(l, "$ ") {
				if n := len(out); n > 0 && l != "" {
					out[n-1].output = strings.TrimPrefix(out[n-1].output+"\n"+l, "\n")
				}
				continue
			}
			ex := example{command: strings.TrimPrefix(l, "$ "), line: i + 1}
			for strings.HasSuffix(ex.command, "\\") && i+1 < len(lines) {
				i++
				ex.command = strings.TrimSuffix(ex.command, "\\") + strings.TrimSpace(lines[i])
			}
			out = append(out, ex)
		}
		i--
	}
	return out
}

// shellWords splits a command line as sh does for the quoting the README
// uses: blanks, '...' and "...".
func shellWords(t *testing.T, s string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				t.Fatalf("unbalanced quote in %q", s)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// readmeSockets opens the sockets the README's examples count, held until
// the test ends.
func readmeSockets(t *testing.T) {
	var closers []interface{ Close() error }
	t.Cleanup(func() {
		for _, c := range closers {
			c.Close()
		}
	})
	keep := func(c interface{ Close() error }) { closers = append(closers, c) }
	listen := func(network, addr string, conns int, clientCloses bool) {
		l, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		keep(l)
		for range conns {
			c, err := net.Dial(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			s, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			keep(s)
			if clientCloses {
				c.Close()
			} else {
				keep(c)
			}
		}
	}
	listen("tcp4", "127.0.0.1:5432", 6, false)
	listen("tcp4", "127.0.0.1:8080", 4, true)
	listen("tcp6", "[::1]:443", 2, false)
	for _, a := range []string{"udp4/127.0.0.1:5353", "udp4/127.0.0.1:5354", "udp4/127.0.0.1:5355", "udp6/[::1]:5353"} {
		network, addr, _ := strings.Cut(a, "/")
		c, err := net.ListenPacket(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		keep(c)
	}
	// The clients' FIN has arrived once the servers' sockets are in CLOSE_WAIT.
	for range 100 {
		out, _ := exec.Command("ss", "-tanH", "state", "close-wait").Output()
		if strings.Count(string(out), "\n") == 4 {
			return
		}
		exec.Command("sleep", "0.05").Run()
	}
	t.Fatal("the closed connections did not reach CLOSE_WAIT")
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		stream, want string
		failed       bool
	}{
		{"nested.json", `ok  	github.com/network-connections/network-connections/internal/collect	0.254s
skipped: 2 tests
  needs frobnicator: apt-get install frob (1):
    github.com/network-connections/network-connections/internal/collect TestNested/a
  needs zot (1):
    github.com/network-connections/network-connections/internal/collect TestTop
`, false},
		{"fail.json", `    p_test.go:9: got 2, want 3
--- FAIL: TestBad (0.00s)
FAIL	example.com/p	0.010s
skipped: 1 tests
  needs root: creates a private network namespace with unshare -n (1):
    example.com/p TestRoot
`, true},
		{"build.json", `# example.com/q [example.com/q.test]
./q_test.go:3:1: syntax error: non-declaration statement outside function body
FAIL	example.com/q [build failed]
go: some plain line
?   	example.com/r	[no test files]
skipped: none
`, true},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.stream))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var out strings.Builder
			if failed := summarize(f, &out); failed != tt.failed || out.String() != tt.want {
				t.Errorf("failed %v:\n%s\nwant failed %v:\n%s", failed, out.String(), tt.failed, tt.want)
			}
		})
	}
}

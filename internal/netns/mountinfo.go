package netns

import (
	"strconv"
	"strings"
)

// nsfsMounts reads /proc/PID/mountinfo's text and returns the mount points
// of nsfs files: the namespaces pinned by a bind mount (ip netns add,
// unshare --net=FILE, a runtime's pin), wherever they are. Each line is
// "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE
// SUPER", with space, tab, newline and '\' in paths written as octal
// escapes.
func nsfsMounts(text string) []string {
	var points []string
	for line := range strings.Lines(text) {
		pre, post, ok := strings.Cut(strings.TrimRight(line, "\n"), " - ")
		if !ok {
			continue
		}
		fields, fs := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(fs) < 1 || fs[0] != "nsfs" {
			continue
		}
		// An nsfs root reads "net:[4026531840]": only network namespaces.
		// (Old kernels wrote "/"; the type is checked again on the file.)
		if r := fields[3]; r != "/" && !strings.HasPrefix(r, "net:[") {
			continue
		}
		points = append(points, unescapeOctal(fields[4]))
	}
	return points
}

// unescapeOctal undoes the kernel's \ooo escapes in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

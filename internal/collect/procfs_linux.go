package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Procfs counts from /proc/net/{tcp,tcp6,udp,udp6}: the fallback when
// sock_diag is refused. It reads only the state column of each line.
type Procfs struct {
	Dir string // "/proc/net" when empty; tests point it at testdata
}

func (Procfs) Name() string { return "procfs" }

var procFiles = [NumTypes]string{"tcp", "tcp6", "udp", "udp6"}

func (p Procfs) Count(ctx context.Context, f Filter) (Counts, error) {
	buf := make([]byte, 64<<10)
	return countTypes(ctx, f, func(t Type) ([NumStatuses]int, error) { return p.countType(t, f, buf) })
}

// countType counts one file, reading through buf (allocated when nil).
func (p Procfs) countType(t Type, f Filter, buf []byte) ([NumStatuses]int, error) {
	dir := p.Dir
	if dir == "" {
		dir = "/proc/net"
	}
	path := dir + "/" + procFiles[t]
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && (t == TCP6 || t == UDP6) {
		return [NumStatuses]int{}, nil // IPv6 disabled: no such sockets
	}
	if err != nil {
		return [NumStatuses]int{}, err
	}
	defer file.Close()
	if buf == nil {
		buf = make([]byte, 64<<10)
	}
	row, err := countProcNet(file, buf, t, f)
	if err != nil {
		return row, fmt.Errorf("read %s: %w", path, err)
	}
	return row, nil
}

// countProcNet counts the lines of a /proc/net/{tcp,udp}[6] file by their
// state column ("st", the 4th field, in hex), reading through buf.
func countProcNet(r io.Reader, buf []byte, t Type, f Filter) ([NumStatuses]int, error) {
	var row [NumStatuses]int
	header := true
	var line []byte // a line split across two reads
	for {
		n, err := r.Read(buf)
		data := buf[:n]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				line = append(line, data...)
				break
			}
			l := data[:i]
			if len(line) > 0 {
				line = append(line, l...)
				l = line
			}
			data = data[i+1:]
			if header {
				header = false
			} else if err := countLine(l, t, f, &row); err != nil {
				return row, err
			}
			line = line[:0]
		}
		if err == io.EOF {
			if len(line) > 0 {
				return row, fmt.Errorf("truncated line %q", line)
			}
			return row, nil
		}
		if err != nil {
			return row, err
		}
	}
}

// countLine counts one line: "  sl  local_address rem_address   st ...".
func countLine(l []byte, t Type, f Filter, row *[NumStatuses]int) error {
	field := 0
	for i := 0; i < len(l); {
		for i < len(l) && l[i] == ' ' {
			i++
		}
		start := i
		for i < len(l) && l[i] != ' ' {
			i++
		}
		if start == i {
			break
		}
		if field == 3 {
			st, ok := parseHexByte(l[start:i])
			if !ok {
				return fmt.Errorf("bad state %q in line %q", l[start:i], l)
			}
			s := Status(st)
			switch {
			case !t.IsTCP():
				s = None
			case s == 0 || s >= NumStatuses:
				return nil // not a state /proc shows for a counted socket
			}
			if f.HasStatus(s) {
				row[s]++
			}
			return nil
		}
		field++
	}
	if len(l) == 0 {
		return nil
	}
	return fmt.Errorf("no state column in line %q", l)
}

func parseHexByte(b []byte) (uint8, bool) {
	if len(b) != 2 {
		return 0, false
	}
	var v uint8
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

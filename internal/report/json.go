package report

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/network-connections/network-connections/internal/top"
)

// Document is the --format json output: one object for scripts.
type Document struct {
	SchemaVersion int         `json:"schema_version"` // SchemaVersion
	State         string      `json:"state"`
	ExitCode      int         `json:"exit_code"`
	AlwaysOK      bool        `json:"always_ok,omitempty"`
	Message       string      `json:"message,omitempty"`
	Groups        []JSONGroup `json:"groups"`
	GroupBy       string      `json:"group_by,omitempty"`
	Warning       []string    `json:"warning"`
	Critical      []string    `json:"critical"`
	Backend       string      `json:"backend,omitempty"`
	Sockets       int         `json:"sockets"`
	DurationMS    float64     `json:"duration_ms"`
	Top           *top.Top    `json:"top,omitempty"`
	TopBy         *Entities   `json:"top_by,omitempty"`
	Netns         *Namespaces `json:"netns,omitempty"`
	Saturation    *Saturation `json:"saturation,omitempty"`
	Error         string      `json:"error,omitempty"`
}

// SchemaVersion is the version of testdata/json/output.schema.json that the
// document follows: it changes whenever the contract does.
const SchemaVersion = 2

// JSONGroup is a group in the document; type and status are left out when
// the grouping merged them.
type JSONGroup struct {
	Label     string `json:"label"`
	PerfLabel string `json:"perf_label"`
	Netns     string `json:"netns,omitempty"`
	NetnsPerf string `json:"netns_perf,omitempty"`
	NetnsIno  uint64 `json:"netns_inode,omitempty"`
	Type      string `json:"type,omitempty"`
	Status    string `json:"status,omitempty"`
	Count     int    `json:"count"`
	State     string `json:"state"`
	Warning   string `json:"warning"`
	Critical  string `json:"critical"`
}

// writeJSON prints the report as one JSON document.
func (r Report) writeJSON(w io.Writer, x Details) error {
	d := Document{
		SchemaVersion: SchemaVersion, State: r.State.String(), ExitCode: r.ExitCode(), AlwaysOK: r.opts.AlwaysOK,
		Message: r.Message(), Groups: []JSONGroup{}, GroupBy: r.opts.GroupBy.String(),
		Warning: nonNil(r.opts.Warning.Given()), Critical: nonNil(r.opts.Critical.Given()),
		Backend: x.Backend, Sockets: x.Sockets, DurationMS: ms(x.Duration), Top: x.Top, TopBy: r.Entities, Netns: r.Netns,
		Saturation: r.Saturation,
	}
	for _, g := range r.Groups {
		jg := JSONGroup{Label: g.Label(), PerfLabel: g.PerfLabel(), Count: g.Count, State: g.State.String(),
			Warning: g.Warning.String(), Critical: g.Critical.String()}
		if g.Netns != nil {
			jg.Netns, jg.NetnsPerf, jg.NetnsIno = g.Netns.Name, g.Netns.Perf, g.Netns.Inode
		}
		if g.By.Type {
			jg.Type = g.Type.String()
		}
		if g.By.Status {
			jg.Status = g.Status.String()
		}
		d.Groups = append(d.Groups, jg)
	}
	return writeDocument(w, d)
}

// writeJSONError prints an UNKNOWN as a JSON document.
func writeJSONError(w io.Writer, msg string) error {
	return writeDocument(w, Document{SchemaVersion: SchemaVersion, State: Unknown.String(), ExitCode: int(Unknown), Groups: []JSONGroup{},
		Warning: []string{}, Critical: []string{}, Error: strings.TrimPrefix(msg, "UNKNOWN: ")})
}

func writeDocument(w io.Writer, d Document) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

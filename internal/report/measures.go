package report

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/network-connections/network-connections/internal/saturation"
	"github.com/network-connections/network-connections/internal/sock"
	"github.com/network-connections/network-connections/internal/threshold"
	"github.com/network-connections/network-connections/internal/top"
)

// Limits are one measure's ranges, on a percent; the measure is on when
// either is given.
type Limits struct{ Warning, Critical threshold.Range }

// On reports whether the measure was asked for.
func (l Limits) On() bool { return l.Warning.IsSet() || l.Critical.IsSet() }

// Alerts reports whether pct is WARNING or CRITICAL.
func (l Limits) Alerts(pct float64) bool { return l.judge(pct) != OK }

func (l Limits) judge(pct float64) State {
	switch {
	case l.Critical.Alerts(pct):
		return Critical
	case l.Warning.Alerts(pct):
		return Warning
	}
	return OK
}

// MeasureOptions are the limits of --listen-queue-*, --port-usage-* and
// --conntrack-*, and the namespace counted when there is one (--netns NAME).
type MeasureOptions struct {
	ListenQueue, PortUsage, Conntrack Limits
	Netns                             *Netns // nil: the host's, or each one's under --netns all
}

// Saturation is what the output carries of the three measures (nil: off).
type Saturation struct {
	ListenQueue *ListenQueue      `json:"listen_queue,omitempty"`
	PortUsage   *PortUsage        `json:"port_usage,omitempty"`
	Conntrack   *ConntrackMeasure `json:"conntrack,omitempty"`
	allNetns    bool              // the offenders name their namespace
	byNetns     bool              // --group-by netns: conntrack perfdata per namespace
	unreadable  int               // processes the owner walk could not read
}

// ListenQueue is the accept queues of the listeners in scope.
type ListenQueue struct {
	State     string          `json:"state"`
	Warning   string          `json:"warning"`
	Critical  string          `json:"critical"`
	Listeners int             `json:"listeners"`
	Unknown   int             `json:"unknown"` // whose queue the collector could not tell
	MaxPct    float64         `json:"max_pct"`
	Fullest   *QueueOffender  `json:"fullest,omitempty"`
	Count     int             `json:"offender_count"`
	Offenders []QueueOffender `json:"offenders"` // the fullest maxListed
	Counters  []ListenCounter `json:"counters"`
}

// QueueOffender is a listener and its queue.
type QueueOffender struct {
	Netns   string  `json:"netns,omitempty"`
	Type    string  `json:"type"`
	Address string  `json:"address"` // address:port, or the unix name
	Pid     int32   `json:"pid,omitempty"`
	Process string  `json:"process,omitempty"`
	Queued  uint32  `json:"queued"`
	Backlog uint32  `json:"backlog"`
	Pct     float64 `json:"pct"`
	State   string  `json:"state"`
	inode   uint32
}

// ListenCounter is a namespace's TcpExtListenOverflows and ListenDrops.
type ListenCounter struct {
	Netns     string `json:"netns"`
	Overflows int64  `json:"listen_overflows"`
	Drops     int64  `json:"listen_drops"`
	Error     string `json:"error,omitempty"`
}

// PortUsage is the ephemeral ports each destination holds.
type PortUsage struct {
	State        string         `json:"state"`
	Warning      string         `json:"warning"`
	Critical     string         `json:"critical"`
	Destinations int            `json:"destinations"`
	MaxPct       float64        `json:"max_pct"`
	Fullest      *PortOffender  `json:"fullest,omitempty"`
	Count        int            `json:"offender_count"`
	Offenders    []PortOffender `json:"offenders"`
	Ranges       []PortRange    `json:"ranges"`
}

// PortOffender is a destination and the ports it holds.
type PortOffender struct {
	Netns        string  `json:"netns,omitempty"`
	LocalAddress string  `json:"local_address"`
	Remote       string  `json:"remote"` // address:port
	InUse        int     `json:"in_use"`
	Usable       int     `json:"usable"`
	Pct          float64 `json:"pct"`
	Pid          int32   `json:"pid,omitempty"`
	Process      string  `json:"process,omitempty"` // a holder of one of its sockets
	State        string  `json:"state"`
	inode        uint32
}

// PortRange is a namespace's ephemeral port range.
type PortRange struct {
	Netns    string `json:"netns"`
	Low      int    `json:"low"`
	High     int    `json:"high"`
	Reserved int    `json:"reserved"`
	// Listening: ports of the range a listener holds, which connect() skips.
	Listening int    `json:"listening"`
	Usable    int    `json:"usable"`
	Error     string `json:"error,omitempty"`
}

// ConntrackMeasure is the conntrack table of each namespace counted.
type ConntrackMeasure struct {
	State      string           `json:"state"`
	Warning    string           `json:"warning"`
	Critical   string           `json:"critical"`
	MaxPct     float64          `json:"max_pct"`
	Namespaces []ConntrackTable `json:"namespaces"`
}

// ConntrackTable is one namespace's table.
type ConntrackTable struct {
	Netns     string  `json:"netns"`
	NetnsPerf string  `json:"netns_perf"`
	Loaded    bool    `json:"loaded"`
	Count     int     `json:"count"`
	Max       int     `json:"max"`
	Pct       float64 `json:"pct"`
	State     string  `json:"state"`
	Error     string  `json:"error,omitempty"`
	// Who fills it: dumped only when the table alerts (nil: not dumped).
	Sources *ConntrackSources `json:"sources,omitempty"`
}

// ConntrackSources is a table's entries by the source address and protocol
// of their original direction: the most first.
type ConntrackSources struct {
	Entries int               `json:"entries"` // entries read
	Cut     bool              `json:"cut,omitempty"`
	CutBy   []string          `json:"cut_by,omitempty"` // the bounds that cut it, as the text names them
	Top     []ConntrackSource `json:"top"`
	Error   string            `json:"error,omitempty"`
	cut     saturation.Cut    // which bounds stopped it
}

// ConntrackSource is one source and its entries.
type ConntrackSource struct {
	Address  string `json:"address"`
	Protocol string `json:"protocol"`
	Entries  int    `json:"entries"`
}

// needsCapNetAdmin is what a dump refused for want of the capability says.
const needsCapNetAdmin = "needs CAP_NET_ADMIN (run as root or setcap cap_net_admin)"

// sourcesOf is what the output carries of a table's dump (nil: none).
func sourcesOf(src *saturation.Sources) *ConntrackSources {
	if src == nil {
		return nil
	}
	c := &ConntrackSources{Entries: src.Entries, Cut: src.Cut != 0, Top: []ConntrackSource{}, Error: src.Err, cut: src.Cut}
	for _, b := range cutBounds {
		if src.Cut&b.bit != 0 {
			c.CutBy = append(c.CutBy, b.name)
		}
	}
	if src.NeedsCap {
		c.Error = needsCapNetAdmin
	}
	for _, s := range src.Top {
		c.Top = append(c.Top, ConntrackSource{Address: s.Addr.String(), Protocol: s.Protocol(), Entries: s.Entries})
	}
	return c
}

// text is the long output's "who fills it": the top sources, the entries
// read, and the bounds that cut the tally.
func (c *ConntrackSources) text() string {
	switch {
	case c.Error == needsCapNetAdmin:
		return needsCapNetAdmin
	case c.Error != "":
		return "unknown: " + clean(c.Error, maxShownValue)
	}
	if c.Entries == 0 && c.cut == 0 {
		return "no entries read"
	}
	var top []string
	for _, s := range c.Top {
		top = append(top, fmt.Sprintf("%s %s %d", Clean(s.Address), Clean(s.Protocol), s.Entries))
	}
	if len(top) == 0 {
		top = append(top, "no source read")
	}
	l := fmt.Sprintf("%s (of %d entries read)", strings.Join(top, ", "), c.Entries)
	var why []string
	for _, x := range cutBounds {
		if c.cut&x.bit != 0 {
			why = append(why, x.text)
		}
	}
	if len(why) > 0 {
		l += " (cut: " + strings.Join(why, ", ") + ")"
	}
	return l
}

// cutBounds name the bounds that cut a tally: in JSON (cut_by) and in text.
var cutBounds = []struct {
	bit        saturation.Cut
	name, text string
}{
	{saturation.CutEntries, "entries", fmt.Sprintf("at %d entries", saturation.MaxSourceEntries)},
	{saturation.CutSources, "sources", fmt.Sprintf("%d sources kept, the entries of others counted", saturation.MaxSources)},
	{saturation.CutDeadline, "deadline", "at a quarter of --timeout"},
	{saturation.CutInterrupted, "interrupted", "the table changed during the dump"},
}

// How many offenders each measure lists: in the status line, in the long
// output and in the JSON document; the rest are counted.
const (
	maxNamedMeasure = 3
	maxLinesMeasure = 20
	maxListed       = 100
)

// JudgeSaturation judges the measures that o turns on over what each
// namespace showed, and raises the report's state by the worst.
func (r *Report) JudgeSaturation(spaces []*saturation.Space, o MeasureOptions) {
	s := &Saturation{byNetns: r.opts.GroupBy.Netns}
	for _, sp := range spaces {
		s.allNetns = s.allNetns || sp.Netns != nil
	}
	nsOf := func(sp *saturation.Space) Netns {
		switch {
		case sp.Netns != nil:
			return Netns{Name: sp.Netns.Name, Perf: sp.Netns.Perf, Inode: sp.Netns.Inode}
		case o.Netns != nil:
			return *o.Netns
		}
		return Netns{Name: "host", Perf: "host"}
	}
	offenderNs := func(sp *saturation.Space) string {
		if !s.allNetns {
			return ""
		}
		return nsOf(sp).Name
	}
	raise := r.raise
	if l := o.ListenQueue; l.On() {
		m := &ListenQueue{Warning: l.Warning.String(), Critical: l.Critical.String(), Offenders: []QueueOffender{}, Counters: []ListenCounter{}}
		var all []QueueOffender
		for _, sp := range spaces {
			c := ListenCounter{Netns: nsOf(sp).Name, Overflows: sp.Netstat.ListenOverflows, Drops: sp.Netstat.ListenDrops, Error: sp.Netstat.Err}
			m.Counters = append(m.Counters, c)
			for _, ln := range sp.Listeners {
				m.Listeners++
				if !ln.Queues {
					m.Unknown++
					continue
				}
				q := QueueOffender{Netns: offenderNs(sp), Type: ln.Type.String(), Address: listenerName(ln), Pid: ln.Pid,
					Queued: ln.Queued, Backlog: ln.Backlog, Pct: queuePct(ln.Queued, ln.Backlog), inode: ln.Inode}
				st := l.judge(q.Pct)
				q.State = st.String()
				if m.Fullest == nil || q.Pct > m.Fullest.Pct {
					f := q
					m.Fullest = &f
				}
				if st != OK {
					all = append(all, q)
				}
			}
		}
		m.MaxPct = m.Fullest.pct()
		slices.SortStableFunc(all, func(a, b QueueOffender) int { return cmp.Compare(b.Pct, a.Pct) })
		m.Count, m.Offenders = len(all), append(m.Offenders, all[:min(len(all), maxListed)]...)
		st := worstQueue(all)
		if m.Unknown > 0 && worse(Unknown, st) {
			st = Unknown
		}
		m.State = st.String()
		raise(st)
		s.ListenQueue = m
	}
	if l := o.PortUsage; l.On() {
		m := &PortUsage{Warning: l.Warning.String(), Critical: l.Critical.String(), Offenders: []PortOffender{}, Ranges: []PortRange{}}
		var all []PortOffender
		var fullest saturation.Tuple // ties: the lowest tuple, so that runs agree
		st := OK
		for _, sp := range spaces {
			p := sp.Ports
			rng := PortRange{Netns: nsOf(sp).Name, Low: p.Low, High: p.High, Reserved: p.Reserved, Listening: p.Listening, Usable: p.Usable(), Error: p.Err}
			if rng.Error == "" && rng.Usable == 0 {
				rng.Error = "no port of the range is left to connect() (reserved, or held by listeners)"
			}
			m.Ranges = append(m.Ranges, rng)
			if rng.Error != "" {
				st = Unknown
				continue
			}
			// Thousands of tuples, most with the same few counts: each
			// count's percent and state, once.
			ports, pct, judged := int32(-1), 0.0, OK
			for t, u := range sp.Tuples() {
				m.Destinations++
				if u.Ports != ports {
					ports, pct = u.Ports, round2(100*float64(u.Ports)/float64(p.Usable()))
					judged = l.judge(pct)
				}
				fuller := m.Fullest == nil || pct > m.Fullest.Pct || pct == m.Fullest.Pct && lessTuple(t, fullest)
				if judged == OK && !fuller {
					continue
				}
				d := saturation.DestinationOf(t, u)
				remote := d.Remote.String()
				if d.Remote.Port() == 0 {
					remote = "*" // Windows: one range for every destination
				}
				po := PortOffender{Netns: offenderNs(sp), LocalAddress: d.Local.String(), Remote: remote,
					InUse: int(u.Ports), Usable: p.Usable(), Pct: pct, Pid: u.Pid, State: judged.String(), inode: u.Inode}
				if fuller {
					f := po
					m.Fullest, fullest = &f, t
				}
				if judged != OK {
					all = append(all, po)
				}
			}
		}
		m.MaxPct = m.Fullest.pct()
		slices.SortStableFunc(all, func(a, b PortOffender) int {
			return cmp.Or(cmp.Compare(b.Pct, a.Pct), cmp.Compare(a.Netns, b.Netns), cmp.Compare(a.Remote, b.Remote), cmp.Compare(a.LocalAddress, b.LocalAddress))
		})
		m.Count, m.Offenders = len(all), append(m.Offenders, all[:min(len(all), maxListed)]...)
		for _, p := range all {
			if worse(stateOf(p.State), st) {
				st = stateOf(p.State)
			}
		}
		m.State = st.String()
		raise(st)
		s.PortUsage = m
	}
	if l := o.Conntrack; l.On() {
		m := &ConntrackMeasure{Warning: l.Warning.String(), Critical: l.Critical.String(), Namespaces: []ConntrackTable{}}
		st := OK
		for _, sp := range spaces {
			c, ns := sp.Conntrack, nsOf(sp)
			t := ConntrackTable{Netns: ns.Name, NetnsPerf: ns.Perf, Loaded: c.Loaded, Count: c.Count, Max: c.Max, State: OK.String(), Error: c.Err}
			switch {
			case c.Err != "":
				t.State = Unknown.String()
			case c.Judged():
				t.Pct = c.Pct() // what the sink judged to dump the table
				t.State = l.judge(t.Pct).String()
				t.Sources = sourcesOf(c.Sources)
				m.MaxPct = max(m.MaxPct, t.Pct)
			}
			if worse(stateOf(t.State), st) {
				st = stateOf(t.State)
			}
			m.Namespaces = append(m.Namespaces, t)
		}
		m.State = st.String()
		raise(st)
		s.Conntrack = m
	}
	r.Saturation = s
}

// NameOwners names the process holding a socket of each offender listed,
// with owners (top.Owners: one walk of /proc for all of them).
func (s *Saturation) NameOwners(owners func([]uint32) (map[uint32]top.Process, int, error)) error {
	if s == nil {
		return nil
	}
	var inodes []uint32
	offenders := 0
	if m := s.ListenQueue; m != nil {
		offenders += m.Count
	}
	if m := s.PortUsage; m != nil {
		offenders += m.Count
	}
	if offenders == 0 {
		return nil // the walk costs more than the check: only to name offenders
	}
	if m := s.ListenQueue; m != nil {
		for _, q := range append(m.Offenders, m.fullest()...) {
			inodes = append(inodes, q.inode)
		}
	}
	if m := s.PortUsage; m != nil {
		for _, p := range append(m.Offenders, m.fullest()...) {
			inodes = append(inodes, p.inode)
		}
	}
	if len(inodes) == 0 {
		return nil
	}
	found, unreadable, err := owners(inodes)
	if err != nil {
		return err
	}
	s.unreadable = unreadable
	name := func(inode uint32, pid *int32, process *string) {
		if p, ok := found[inode]; ok && inode != 0 {
			*pid, *process = p.Pid, p.Name
		} else if *pid != 0 {
			*process = top.NameOf(*pid)
		}
	}
	if m := s.ListenQueue; m != nil {
		for i := range m.Offenders {
			name(m.Offenders[i].inode, &m.Offenders[i].Pid, &m.Offenders[i].Process)
		}
		if f := m.Fullest; f != nil {
			name(f.inode, &f.Pid, &f.Process)
		}
	}
	if m := s.PortUsage; m != nil {
		for i := range m.Offenders {
			name(m.Offenders[i].inode, &m.Offenders[i].Pid, &m.Offenders[i].Process)
		}
		if f := m.Fullest; f != nil {
			name(f.inode, &f.Pid, &f.Process)
		}
	}
	return nil
}

// queuePct is a listener's accept queue as a percent of its backlog. The
// kernel queues one more than the backlog (sk_acceptq_is_full: more than
// it), so a full queue is over 100; a backlog of 0 holds 1 and counts as 1.
func queuePct(queued, backlog uint32) float64 {
	return round2(100 * float64(queued) / float64(max(backlog, 1)))
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func pctText(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) + "%" }

func stateOf(s string) State {
	for _, st := range []State{OK, Warning, Critical, Unknown} {
		if st.String() == s {
			return st
		}
	}
	return Unknown
}

func worstQueue(all []QueueOffender) State {
	st := OK
	for _, q := range all {
		if worse(stateOf(q.State), st) {
			st = stateOf(q.State)
		}
	}
	return st
}

func (q *QueueOffender) pct() float64 {
	if q == nil {
		return 0
	}
	return q.Pct
}

func (p *PortOffender) pct() float64 {
	if p == nil {
		return 0
	}
	return p.Pct
}

func (m *ListenQueue) fullest() []QueueOffender {
	if m.Fullest == nil {
		return nil
	}
	return []QueueOffender{*m.Fullest}
}

func (m *PortUsage) fullest() []PortOffender {
	if m.Fullest == nil {
		return nil
	}
	return []PortOffender{*m.Fullest}
}

// listenerName is address:port, or a unix listener's name, safe to print.
func listenerName(l saturation.Listener) string {
	if l.Type == sock.Unix {
		if l.Path == "" {
			return "unix socket " + strconv.FormatUint(uint64(l.Inode), 10)
		}
		return l.Path // exact: the text output cleans it (where)
	}
	return l.Local.String()
}

// where names an offender in the text output: its namespace, address (a
// unix listener's path, which anyone may choose) and process, each through
// Clean; JSON has them exact.
func (q QueueOffender) where() string {
	name := Clean(q.Address)
	if q.Netns != "" {
		name = Clean(q.Netns) + " " + name
	}
	if q.Process != "" {
		name += " (" + Clean(q.Process) + ")"
	}
	return name
}

func (p PortOffender) where() string {
	name := p.LocalAddress + " -> " + p.Remote
	if p.Netns != "" {
		name = Clean(p.Netns) + " " + name
	}
	if p.Process != "" {
		name += " (" + Clean(p.Process) + ")"
	}
	return name
}

// message is the status line's part: the offenders, bounded, and what
// could not be measured.
func (s *Saturation) message() string {
	if s == nil {
		return ""
	}
	var parts []string
	// named is "what over the limit: a, b, c, and 2 more"; one and many
	// say what differently.
	named := func(count int, one, many string, names []string) string {
		if count > len(names) {
			names = append(names, fmt.Sprintf("and %d more", count-len(names)))
		}
		what := one
		if count > 1 {
			what = fmt.Sprintf(many, count)
		}
		return what + " over the limit: " + strings.Join(names, ", ")
	}
	if m := s.ListenQueue; m != nil {
		if m.Count > 0 {
			var names []string
			for _, q := range m.Offenders[:min(maxNamedMeasure, len(m.Offenders))] {
				names = append(names, fmt.Sprintf("%s %s [%s]", q.where(), pctText(q.Pct), q.State))
			}
			parts = append(parts, named(m.Count, "listen queue", "%d listen queues", names))
		}
		if m.Unknown > 0 {
			parts = append(parts, plural(m.Unknown, "listen queue")+" unknown (see the long output)")
		}
	}
	if m := s.PortUsage; m != nil {
		if m.Count > 0 {
			var names []string
			for _, p := range m.Offenders[:min(maxNamedMeasure, len(m.Offenders))] {
				names = append(names, fmt.Sprintf("%s %s [%s]", p.where(), pctText(p.Pct), p.State))
			}
			parts = append(parts, named(m.Count, "ephemeral ports", "ephemeral ports of %d destinations", names))
		}
		if m.State == Unknown.String() {
			parts = append(parts, "ephemeral port range unknown (see the long output)")
		}
	}
	if m := s.Conntrack; m != nil {
		var names []string
		count := 0
		for _, t := range m.Namespaces {
			if st := stateOf(t.State); st == Warning || st == Critical {
				if count++; len(names) < maxNamedMeasure {
					names = append(names, fmt.Sprintf("%s %s [%s]", Clean(t.Netns), pctText(t.Pct), t.State))
				}
			}
		}
		if count > 0 {
			parts = append(parts, named(count, "conntrack table", "%d conntrack tables", names))
		}
		if m.State == Unknown.String() {
			parts = append(parts, "conntrack unknown (see the long output)")
		}
	}
	return strings.Join(parts, ", ")
}

// perfdata is the measures' series: the fullest listener's and
// destination's percent, and conntrack's (per namespace with --group-by netns).
func (s *Saturation) perfdata() []perf {
	if s == nil {
		return nil
	}
	var items []perf
	item := func(label string, pct float64, w, c string) {
		items = append(items, perf{label: label, value: pctText(pct), warning: w, critical: c})
	}
	if m := s.ListenQueue; m != nil {
		item("listen_queue_max_pct", m.MaxPct, m.Warning, m.Critical)
	}
	if m := s.PortUsage; m != nil {
		item("port_usage_max_pct", m.MaxPct, m.Warning, m.Critical)
	}
	if m := s.Conntrack; m != nil {
		loaded := slices.ContainsFunc(m.Namespaces, func(t ConntrackTable) bool { return t.Loaded })
		if !s.byNetns && loaded {
			item("conntrack_pct", m.MaxPct, m.Warning, m.Critical)
		} else if s.byNetns {
			series, _ := m.series()
			items = append(items, series...)
		}
	}
	return items
}

// lines is the long output: each measure's summary and offenders, and
// with -v the listen counters of each namespace.
func (s *Saturation) lines(verbose int) []string {
	if s == nil {
		return nil
	}
	var out []string
	// boundedLines adds the lines of each of the first n, saying how many
	// of total it left out; bounded, one line each.
	boundedLines := func(n, total int, lines func(int) []string) {
		shown := min(n, maxLinesMeasure)
		for i := range shown {
			out = append(out, lines(i)...)
		}
		if total > shown {
			out = append(out, fmt.Sprintf("... and %d more (--format json has more)", total-shown))
		}
	}
	bounded := func(n, total int, line func(int) string) {
		boundedLines(n, total, func(i int) []string { return []string{line(i)} })
	}
	if m := s.ListenQueue; m != nil {
		l := "listen queues: " + plural(m.Listeners, "listener")
		if f := m.Fullest; f != nil {
			l += fmt.Sprintf(", the fullest %s: %d waiting, backlog %d, %s", f.where(), f.Queued, f.Backlog, pctText(f.Pct))
		}
		out = append(out, l+fmt.Sprintf(" (warning %s, critical %s)", orNone(m.Warning), orNone(m.Critical)))
		bounded(len(m.Offenders), m.Count, func(i int) string {
			q := m.Offenders[i]
			return fmt.Sprintf("listen queue %s: %d waiting, backlog %d, %s [%s]", q.where(), q.Queued, q.Backlog, pctText(q.Pct), q.State)
		})
		if m.Unknown > 0 {
			out = append(out, fmt.Sprintf("listen queues unknown: %s counted from /proc/net, which shows no backlog (sock_diag was refused)", plural(m.Unknown, "listener")))
		}
		if verbose > 0 {
			bounded(len(m.Counters), len(m.Counters), func(i int) string {
				c := m.Counters[i]
				if c.Error != "" {
					return fmt.Sprintf("listen counters %s: %s", Clean(c.Netns), clean(c.Error, maxShownValue))
				}
				return fmt.Sprintf("listen counters %s: TcpExtListenOverflows %d, TcpExtListenDrops %d", Clean(c.Netns), c.Overflows, c.Drops)
			})
		}
	}
	if m := s.PortUsage; m != nil {
		l := "ephemeral ports: " + plural(m.Destinations, "destination")
		if f := m.Fullest; f != nil {
			l += fmt.Sprintf(", the fullest %s: %d of %d ports, %s", f.where(), f.InUse, f.Usable, pctText(f.Pct))
		}
		out = append(out, l+fmt.Sprintf(" (warning %s, critical %s)", orNone(m.Warning), orNone(m.Critical)))
		bounded(len(m.Offenders), m.Count, func(i int) string {
			p := m.Offenders[i]
			return fmt.Sprintf("ephemeral ports %s: %d of %d, %s [%s]", p.where(), p.InUse, p.Usable, pctText(p.Pct), p.State)
		})
		var ranges []string // one a namespace: bounded like the rest
		for _, r := range m.Ranges {
			if r.Error != "" {
				ranges = append(ranges, fmt.Sprintf("ephemeral port range %s: unknown: %s", Clean(r.Netns), clean(r.Error, maxShownValue)))
			} else if verbose > 0 {
				ranges = append(ranges, fmt.Sprintf("ephemeral port range %s: %d-%d, %d reserved, %d held by listeners, %d usable", Clean(r.Netns), r.Low, r.High, r.Reserved, r.Listening, r.Usable))
			}
		}
		bounded(len(ranges), len(ranges), func(i int) string { return ranges[i] })
	}
	if m := s.Conntrack; m != nil {
		shown := linesFirst(m.Namespaces, min(len(m.Namespaces), maxLinesMeasure))
		boundedLines(len(shown), len(m.Namespaces), func(i int) []string {
			t := m.Namespaces[shown[i]]
			switch {
			case t.Error != "":
				return []string{fmt.Sprintf("conntrack %s: unknown: %s", Clean(t.Netns), clean(t.Error, maxShownValue))}
			case !t.Loaded:
				return []string{fmt.Sprintf("conntrack %s: the nf_conntrack module is not loaded: nothing to judge", Clean(t.Netns))}
			}
			l := fmt.Sprintf("conntrack %s: %d of %d entries, %s", Clean(t.Netns), t.Count, t.Max, pctText(t.Pct))
			if t.State != OK.String() {
				l += " [" + t.State + "]"
			}
			if t.Sources == nil {
				return []string{l}
			}
			return []string{l, fmt.Sprintf("conntrack %s: who fills it: %s", Clean(t.Netns), t.Sources.text())}
		})
	}
	if m := s.Conntrack; m != nil && s.byNetns && m.cut() {
		out = append(out, fmt.Sprintf("perfdata: conntrack of some of %d namespaces, those that alert first (bound: %d KiB; --format json has all)", loadedTables(m.Namespaces), maxPerfdata>>12))
	}
	if s.unreadable > 0 {
		out = append(out, fmt.Sprintf("processes not read for the owners: %d (another user's, without CAP_SYS_PTRACE)", s.unreadable))
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// plural is "1 listener", "2 listeners".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func lessTuple(a, b saturation.Tuple) bool {
	return cmp.Or(bytes.Compare(a.Local[:], b.Local[:]), bytes.Compare(a.Remote[:], b.Remote[:]), cmp.Compare(a.Port, b.Port)) < 0
}

// rank orders states as worse does.
func rank(s State) int { return stateRank[s] }

func loadedTables(ts []ConntrackTable) int {
	n := 0
	for _, t := range ts {
		if t.Loaded {
			n++
		}
	}
	return n
}

// series is the perfdata of each namespace's table: those that alert
// first, up to a quarter of the bound (--format json has every namespace);
// cut tells whether some were left out.
func (m *ConntrackMeasure) series() (items []perf, cut bool) {
	tables := slices.Clone(m.Namespaces)
	slices.SortStableFunc(tables, func(a, b ConntrackTable) int {
		return cmp.Compare(rank(stateOf(b.State)), rank(stateOf(a.State)))
	})
	size := 0
	for _, t := range tables {
		if !t.Loaded {
			continue // no table: no series
		}
		if size > maxPerfdata/4 {
			return items, true
		}
		items = append(items, perf{label: t.NetnsPerf + "_conntrack_pct", value: pctText(t.Pct), warning: m.Warning, critical: m.Critical})
		size += len(items[len(items)-1].String())
	}
	return items, false
}

func (m *ConntrackMeasure) cut() bool {
	_, cut := m.series()
	return cut
}

// linesFirst picks the n tables the long output shows, in their order:
// those that alert or are unknown before those that are OK, so that a
// table about to overflow is never among those left out.
func linesFirst(ts []ConntrackTable, n int) []int {
	var first, rest []int
	for i, t := range ts {
		if t.State != OK.String() || t.Error != "" {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	keep := append(first, rest...)[:n]
	slices.Sort(keep)
	return keep
}

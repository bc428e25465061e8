package collect

import "testing"

type statusSink struct {
	listSink
	mask uint16
}

func (s *statusSink) Statuses() uint16 { return s.mask }

// A tee hands each sink the statuses it takes; a sink that names none
// takes all.
func TestTee(t *testing.T) {
	listeners := &statusSink{mask: 1 << Listen}
	var all listSink
	sink := Tee(nil, listeners, &all)
	if got := wants(sink); got != 1<<NumStatuses-1 {
		t.Errorf("wants %b", got)
	}
	out := newRows(sink)
	out.add(Socket{Type: TCP, Status: Listen})
	out.add(Socket{Type: TCP, Status: Established})
	out.done()
	if len(listeners.list) != 1 || len(all.list) != 2 || out.row[Listen] != 1 || out.row[Established] != 1 {
		t.Errorf("listeners %v, all %v, row %v", listeners.list, all.list, out.row)
	}
	if Tee(nil, nil) != nil || Tee(nil, &all) != Sink(&all) {
		t.Error("Tee of one sink is that sink, of none nil")
	}
	only := newRows(listeners)
	only.add(Socket{Type: TCP, Status: Established})
	if len(listeners.list) != 1 || only.row[Established] != 1 {
		t.Errorf("a socket the sink does not take is counted only: %v %v", listeners.list, only.row)
	}
}

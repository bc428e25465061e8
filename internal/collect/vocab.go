package collect

import "github.com/network-connections/network-connections/internal/sock"

// The vocabulary is internal/sock's; the collectors speak it unqualified.
type (
	Type   = sock.Type
	Status = sock.Status
	Counts = sock.Counts
	Socket = sock.Socket
	Sink   = sock.Sink
)

const (
	TCP         = sock.TCP
	TCP6        = sock.TCP6
	UDP         = sock.UDP
	UDP6        = sock.UDP6
	Unix        = sock.Unix
	NumTypes    = sock.NumTypes
	None        = sock.None
	Established = sock.Established
	SynSent     = sock.SynSent
	SynRecv     = sock.SynRecv
	FinWait1    = sock.FinWait1
	FinWait2    = sock.FinWait2
	TimeWait    = sock.TimeWait
	Close       = sock.Close
	CloseWait   = sock.CloseWait
	LastAck     = sock.LastAck
	Listen      = sock.Listen
	Closing     = sock.Closing
	NumStatuses = sock.NumStatuses
)

var (
	ParseType    = sock.ParseType
	ParseStatus  = sock.ParseStatus
	CountSockets = sock.CountSockets
)

package rules

import (
	"sort"
	"time"
)

// The click-timing rules. A security scanner (a mail gateway's link sandbox, a corporate
// proxy) follows a message's links as it arrives: before the ESP reports delivery or within
// seconds after it, often every link at once, and it follows links no person can see. A
// person clicks later, one link at a time.
const (
	// NearDelivery: a click less than this after delivery (or after sending, when no
	// delivery was reported) is a scanner's.
	NearDelivery = 10 * time.Second
	// BurstWindow and BurstLinks: clicks on BurstLinks or more different links of one
	// message within BurstWindow are a scanner's, all of them.
	BurstWindow = 5 * time.Second
	BurstLinks  = 3
	// HoneypotWindow: clicks of a message within this of a click on its hidden honeypot
	// link are the same scanner's.
	HoneypotWindow = time.Minute
	// ClickReach is how far apart two clicks of a message can be and still change each
	// other's label (the largest of the windows above): a store only needs a click's
	// neighbours within it to decide the click's label.
	ClickReach = HoneypotWindow
	// MaxClicksClassified bounds the clicks the rules look at together; where one
	// message has more within ClickReach of the clicks to relabel, they keep the labels
	// their requests gave them.
	MaxClicksClassified = 2000
)

// The reasons the click rules add to a click's classification.
const (
	ReasonBeforeDelivery = "before_delivery"
	ReasonNearDelivery   = "near_delivery"
	ReasonNearSend       = "near_send"
	ReasonBurst          = "burst"
	ReasonHoneypot       = "honeypot"
	ReasonNearHoneypot   = "near_honeypot"
)

// IsClickRuleReason reports whether r is one of the reasons above, which the click rules
// decide from a message's other events; every other reason comes from the request itself.
func IsClickRuleReason(r string) bool {
	switch r {
	case ReasonBeforeDelivery, ReasonNearDelivery, ReasonNearSend, ReasonBurst, ReasonHoneypot, ReasonNearHoneypot:
		return true
	}
	return false
}

// Click is what the click rules need of one counted click of a message.
type Click struct {
	At       int64  // occurred_at, unix ms
	Link     string // identity of the link (its URL, or "#<index>"); "" counts as one link
	Honeypot bool   // a click on the hidden honeypot link
	// RequestBot is the classification from the request alone (scanner agent or range,
	// HEAD): such a click stays a bot whatever its neighbours.
	RequestBot bool
}

// ClickVerdict is the outcome of the click rules for one click: Bot, and the rule reasons
// (empty when no rule fired; a RequestBot click keeps its own reasons besides these).
type ClickVerdict struct {
	Bot     bool
	Reasons []string
}

// ClassifyClicks classifies every click of one message from all of them together and the
// message's delivery (deliveredAt, the earliest delivered event; 0 if none) and send time
// (sentAt; 0 if unknown). The result is a function of the set of clicks, not of their
// order, so late and re-ordered events give the same labels:
//
//   - a click before delivery, or less than NearDelivery after it → bot;
//     without a delivery, less than NearDelivery after sending → bot;
//   - BurstLinks or more different links clicked within BurstWindow → every click of the
//     burst is a bot;
//   - a click on the honeypot link → bot, and every click within HoneypotWindow of it;
//   - a click the request marks as a bot stays one;
//   - every other click is human, even after a scanner's: a person clicking hours after
//     the gateway did counts.
func ClassifyClicks(deliveredAt, sentAt int64, clicks []Click) []ClickVerdict {
	out := make([]ClickVerdict, len(clicks))
	idx := make([]int, len(clicks))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ca, cb := clicks[idx[a]], clicks[idx[b]]
		if ca.At != cb.At {
			return ca.At < cb.At
		}
		return ca.Link < cb.Link
	})
	mark := func(i int, reason string) {
		v := &out[i]
		v.Bot = true
		for _, r := range v.Reasons {
			if r == reason {
				return
			}
		}
		v.Reasons = append(v.Reasons, reason)
	}
	near := NearDelivery.Milliseconds()
	for i, c := range clicks {
		switch {
		case deliveredAt != 0 && c.At < deliveredAt:
			mark(i, ReasonBeforeDelivery)
		case deliveredAt != 0 && c.At-deliveredAt < near:
			mark(i, ReasonNearDelivery)
		case deliveredAt == 0 && sentAt != 0 && c.At-sentAt < near:
			mark(i, ReasonNearSend)
		}
		if c.Honeypot {
			mark(i, ReasonHoneypot)
		}
	}
	// Bursts: every window of BurstWindow that starts at a click and holds BurstLinks
	// different links marks all its clicks.
	win := BurstWindow.Milliseconds()
	links := map[string]bool{}
	for a := 0; a < len(idx); a++ {
		clear(links)
		b := a
		for b < len(idx) && clicks[idx[b]].At-clicks[idx[a]].At <= win {
			links[clicks[idx[b]].Link] = true
			b++
		}
		if len(links) >= BurstLinks {
			for k := a; k < b; k++ {
				mark(idx[k], ReasonBurst)
			}
		}
	}
	// The honeypot's neighbours.
	hw := HoneypotWindow.Milliseconds()
	for _, h := range clicks {
		if !h.Honeypot {
			continue
		}
		for i, c := range clicks {
			if !c.Honeypot && c.At >= h.At-hw && c.At <= h.At+hw {
				mark(i, ReasonNearHoneypot)
			}
		}
	}
	for i, c := range clicks {
		if c.RequestBot {
			out[i].Bot = true
		}
	}
	return out
}

// Package journey holds what a journey's "wait for event" step needs besides the store:
// the pure rule that says which committed event may answer a waiting condition, and the
// in-memory registry of waiting conditions that the committed events wake up.
//
// The store stays the one authority on the answer: a wake-up only tells a waiter to ask
// the store again. So the registry can be generous (a label the click rules change later,
// an event in the same batch as its relabelling) without ever answering wrongly.
package journey

import "github.com/mailtrail/mailtrail"

// Wakes reports whether the committed event ev may change the answer of the condition c
// (asked in ev's organization): an event of the customer, of the campaign or message
// asked, of the type asked, at or after c.Since, counted, human when asked, of the link
// asked. When c asks for human clicks, every click, delivery and send of the scope wakes
// it too: they make the click rules relabel the message's clicks, and a bot click can
// become human.
func Wakes(c *mailtrail.Condition, ev *mailtrail.Event) bool {
	if ev.CustomerID != c.CustomerID ||
		c.CampaignID != "" && ev.CampaignID != c.CampaignID ||
		c.MessageID != "" && ev.MessageID != c.MessageID {
		return false
	}
	if c.Type == mailtrail.EventClicked && c.HumanOnly {
		switch ev.Type {
		case mailtrail.EventClicked, mailtrail.EventDelivered, mailtrail.EventSent:
			return true
		}
		return false
	}
	if ev.Type != c.Type || !ev.Counted || ev.OccurredAt.Before(c.Since) {
		return false
	}
	if c.LinkURL != "" && ev.Metadata.LinkURL != c.LinkURL {
		return false
	}
	return !c.HumanOnly || ev.IsHuman()
}

package mailtrail

// ClickRelabel is a stored click whose human label the click rules changed after it was
// committed (a burst of links, the hidden honeypot link, timing against a later
// delivery): what a commit reports so that in-memory copies of the labels follow.
type ClickRelabel struct {
	OrgID, CampaignID, CustomerID, LinkURL string
	At                                     int64 // the click's occurred_at, unix milliseconds
	Human                                  bool  // the new label
}

// ErasedCustomer is a customer whose personal data an erasure removed: OldID is the CRM's
// id, which no longer names anything, and NewID the "erased:…" id the customer's rows
// carry now. In-memory copies rename the customer, so they never answer with OldID again.
type ErasedCustomer struct {
	OrgID, OldID, NewID string
}

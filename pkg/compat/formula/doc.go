// Package formula is the deterministic part of compatibility: a documented score of two people from
// their PUBLIC shades alone (shared topics and facets weighted by confidence, complementary traits,
// similar wording), with reasons that name the shades, and the topic terms that the candidate index
// uses (normalised by package terms). It needs no model and no network, and it scores pairs without
// allocating.
package formula

"""The extra edition: an editor's links and queued submissions, paced between issues."""

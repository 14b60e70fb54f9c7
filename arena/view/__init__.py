"""Terminal rendering with rich: live match view, replays, tables. Agent text is always escaped."""

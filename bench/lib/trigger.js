/** Coupon Trigger settings for the benchmarks' polls: 100 events a poll, every coupon watched. */
const triggerSettings = (event, withinDays = 3) => ({
	event,
	availableBelow: 0,
	daysLeftBelow: 0,
	withinDays,
	maxEvents: 100,
});

module.exports = { triggerSettings };

/** The positions of `requests` grouped by `keyOf`, groups in order of first appearance. */
export function groupIndexes<T>(requests: T[], keyOf: (request: T) => string): number[][] {
	const groups = new Map<string, number[]>();
	requests.forEach((request, j) => {
		const key = keyOf(request);
		const members = groups.get(key);
		if (members) members.push(j);
		else groups.set(key, [j]);
	});
	return [...groups.values()];
}

/* Does not compile. */
struct broken {
	int a
	int b;
};

// ember: the command line (train, summary, data, evaluate, predict, bench).
int main() { return 0; }

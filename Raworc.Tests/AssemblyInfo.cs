// Collections run one after another within a test process (eng/test.sh runs two processes at once, its lanes: see
// ComputerLaneAttribute): the reconciler of the system with computers removes every managed container
// it does not know, which would include the containers of the engine-level tests if they ran at the same time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

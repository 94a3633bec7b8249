namespace Raworc;

/// <summary>
/// What the warm pool's claim route (<c>GET /api/v0/pool/claim</c>) hands a pooled computer's agent once a session has
/// claimed it, compiled into the API and the agent so the two cannot drift apart (snake_case on the wire).
/// </summary>
/// <param name="SessionId">The session, "D" format: the id the computer was started for.</param>
/// <param name="HostToken">The session's Host token (a JWT). Kept in the agent's memory only: never an environment
/// variable, never a file.</param>
/// <param name="Environment">Variables the agent adds to its own environment before it starts, so its model settings,
/// its tools and <c>setup.sh</c> see them as a normal computer's processes do: the session's secrets (NAME → value),
/// <c>RAWORC_SECRET_NAMES</c>, the model provider and model.</param>
/// <param name="Files">Files the agent writes under its session folder before <c>setup.sh</c> runs.</param>
internal sealed record PoolHandover(string SessionId, string HostToken, Dictionary<string, string> Environment, List<HandoverFile> Files);

/// <summary>One file of a <see cref="PoolHandover"/>.</summary>
/// <param name="Path">Relative to the session folder, e.g. <c>code/setup.sh</c> or <c>secrets/API_KEY</c>; never absolute, never with <c>..</c>.</param>
/// <param name="Mode">Unix permission bits, e.g. 384 (0600) for a secret.</param>
/// <param name="Content">UTF-8 text, written without a byte-order mark.</param>
internal sealed record HandoverFile(string Path, int Mode, string Content);

/// <summary>
/// The body of a cold start's boot exchange, <c>POST /api/v0/boot</c> (snake_case on the wire), answered with a
/// <see cref="PoolHandover"/> whose environment is empty (the computer was started with the session's variables).
/// </summary>
/// <param name="SessionId">The session, "D" format (<c>RAWORC_SESSION_ID</c>).</param>
/// <param name="Ticket">The boot ticket (<c>RAWORC_BOOT_TICKET</c>); good for one exchange, for this start only, until its
/// ready deadline.</param>
/// <param name="Seed">True on a new volume (<c>RAWORC_SEED_VOLUME</c>): the answer then carries the seed files
/// (instructions, setup script, secrets); false on an existing one, which keeps its files.</param>
internal sealed record BootRequest(string SessionId, string Ticket, bool Seed);

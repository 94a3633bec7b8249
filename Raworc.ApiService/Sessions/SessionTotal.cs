namespace Raworc.ApiService.Sessions;

/// <summary>
/// How many sessions one owner has (table <c>session_totals</c>), kept by the database itself: triggers on
/// <c>sessions</c> add each inserted row and subtract each deleted one, per statement, in the same transaction, so the
/// total is exact for every reader whatever wrote the rows (the API, an older replica during an upgrade, a script).
/// <c>GET /sessions</c> reads a user's or operator's <c>X-Total-Count</c> from here — one row, however many sessions
/// the owner has — where counting read every entry of the owner's index (~10–30 ms at 100,000 sessions, issue 14's
/// goal 7).
/// </summary>
public sealed class SessionTotal
{
    /// <summary>
    /// The owner as <see cref="KeyOf"/> writes it: <c>operator:&lt;uuid&gt;</c> for sessions an operator made,
    /// <c>name:&lt;type&gt;:&lt;name&gt;</c> for the others (the same split as <see cref="SessionOwner.Filter"/>).
    /// </summary>
    public required string OwnerKey { get; init; }

    /// <summary>The owner's sessions, in every state.</summary>
    public long Total { get; init; }

    /// <summary>
    /// The key of <paramref name="owner"/>'s row; the triggers compute the same from a session's
    /// <c>created_by_operator_id</c>, <c>created_by_type</c> and <c>created_by</c> (migration <c>SessionTotals</c>).
    /// </summary>
    public static string KeyOf(SessionOwner owner) =>
        owner.OperatorId is { } id ? $"operator:{id:D}" : $"name:{owner.Type}:{owner.Name}";
}

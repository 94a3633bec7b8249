using System.Text;

namespace Raworc.HostAgent.Tools;

/// <summary>
/// Collects a stream of characters but keeps only the first and last <c>limit / 2</c> of them, so that a
/// command printing megabytes costs bounded memory. <see cref="ToString"/> marks where characters were cut.
/// </summary>
/// <param name="limit">The most characters kept (head plus tail); at least 2.</param>
public sealed class CappedText(int limit)
{
    private readonly int _headLimit = Math.Max(1, limit / 2);
    private readonly int _tailLimit = Math.Max(1, limit - (limit / 2));
    private readonly StringBuilder _head = new();
    private readonly Queue<char> _tail = new();
    private long _total;

    /// <summary>How many characters were appended in all, kept or not.</summary>
    public long TotalLength => _total;

    /// <summary>Appends characters; safe to call from one reader at a time.</summary>
    public void Append(ReadOnlySpan<char> chars)
    {
        foreach (var c in chars)
        {
            _total++;
            if (_head.Length < _headLimit)
            {
                _head.Append(c);
                continue;
            }

            if (_tail.Count == _tailLimit)
            {
                _tail.Dequeue();
            }

            _tail.Enqueue(c);
        }
    }

    /// <summary>The kept text: everything when under the limit, else head, a marker naming the omitted count, and tail.</summary>
    public override string ToString()
    {
        var omitted = _total - _head.Length - _tail.Count;
        var tail = new string([.. _tail]);
        return omitted == 0
            ? _head + tail
            : $"{_head}\n[... {omitted} characters omitted ...]\n{tail}";
    }

    /// <summary>Caps a finished string the same way.</summary>
    /// <param name="text">Any text.</param>
    /// <param name="limit">The most characters kept.</param>
    public static string Cap(string text, int limit)
    {
        if (text.Length <= limit)
        {
            return text;
        }

        var capped = new CappedText(limit);
        capped.Append(text);
        return capped.ToString();
    }
}

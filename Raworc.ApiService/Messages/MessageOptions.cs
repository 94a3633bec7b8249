using System.ComponentModel.DataAnnotations;

namespace Raworc.ApiService.Messages;

/// <summary>Settings of message lists, bound from the configuration section <c>Messages</c>.</summary>
public sealed class MessageOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Messages";

    /// <summary>Default of <see cref="MaxPageBytes"/>: 4 MiB.</summary>
    public const int DefaultMaxPageBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Most bytes of stored text (UTF-8 <c>content</c> plus <c>metadata</c> JSON) one page of <c>GET …/messages</c> carries:
    /// a page stops before the message that would pass it (it always holds at least one) and says so in
    /// <c>X-Page-Truncated</c>, so a page of 1,000 long messages cannot build hundreds of megabytes.
    /// </summary>
    [Range(64 * 1024, int.MaxValue)]
    public int MaxPageBytes { get; set; } = DefaultMaxPageBytes;
}

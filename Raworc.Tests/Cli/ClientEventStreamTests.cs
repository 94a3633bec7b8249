using System.Text.Json.Nodes;
using Raworc.Client;
using Raworc.Client.Models;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Cli;

/// <summary>The client's event stream and <c>raworc watch</c> against the real API (no computers).</summary>
[Collection(RaworcAppCollection.Name)]
public sealed class ClientEventStreamTests(RaworcAppFixture fixture) : IDisposable
{
    private readonly CliRun _cli = new();

    [Fact]
    public async Task AStreamCutInTheMiddleOfABurstResumesWithEveryMessageOnceInOrder()
    {
        var (_, api) = await fixture.CreateOperatorAsync("events");
        using var _ = api;
        var session = (await api.CreateSessionAsync()).Id().ToString();
        var cut = new CutOnceHandler(bytes: 3000) { InnerHandler = new HttpClientHandler() };
        using var http = new HttpClient(cut) { BaseAddress = api.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var client = new RaworcClient(http, api.DefaultRequestHeaders.Authorization!.Parameter);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        await using var events = await client.OpenEventsAsync(session, cancellationToken: timeout.Token);
        var posting = Task.Run(async () =>
        {
            var ids = new List<Guid>();
            for (var i = 0; i < 100; i++)
            {
                ids.Add((await client.PostMessageAsync(session, $"burst {i}", cancellationToken: timeout.Token)).Id);
            }
            return ids;
        });
        var received = new List<Message>();
        await foreach (var e in events.ReadAllAsync(timeout.Token))
        {
            if (e is MessageEvent m)
            {
                received.Add(m.Message);
            }
            if (received.Count == 100)
            {
                break;
            }
        }

        Assert.Equal(await posting, received.Select(m => m.Id));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"burst {i}"), received.Select(m => m.Content));
        Assert.Equal(1, events.Reconnects);
        Assert.Equal(2, cut.Requests);
        Assert.NotNull(cut.ResumedFrom);
    }

    [Fact]
    public async Task WatchPrintsEachEventAsJsonAndEndsWhenTheSessionIsDeleted()
    {
        var (user, api) = await fixture.CreateOperatorAsync("watcher", pass: "cli-password-1");
        using var _ = api;
        Assert.Equal(0, (await _cli.RunAsync(["login", "--url", api.BaseAddress!.ToString(), "--user", user, "--pass", "cli-password-1"])).ExitCode);
        var name = SessionTestExtensions.UniqueName("watched");
        var id = (await api.CreateSessionAsync(new { name })).Id();

        var watch = _cli.StartAsync(["watch", name, "--json"]);
        await Waits.UntilAsync(() => Task.FromResult(watch.Error.Contains("Watching", StringComparison.Ordinal) || watch.Task.IsCompleted), "watch is connected");
        var message = await api.PostOkAsync($"/api/v0/sessions/{name}/messages", new { content = "hello, watcher" });
        await api.PostOkAsync($"/api/v0/sessions/{name}/close");
        // A delete takes the session's stored events with it: one made before the stream has read the close would end it
        // with "deleted" alone after the message (seen in CI). The stream is given the close first.
        await Waits.UntilAsync(() => Task.FromResult(watch.Out.Contains("\"event\":\"state\"", StringComparison.Ordinal) || watch.Task.IsCompleted),
            "watch printed the close");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v0/sessions/{name}")).StatusCode);
        var watched = await watch.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(watched.ExitCode == 0, watched.Error);
        var events = watched.Lines.Select(l => JsonNode.Parse(l)!.AsObject()).ToArray();
        Assert.Equal(["message", "state", "deleted"], events.Select(e => (string)e["event"]!));
        Assert.Equal(((string?)message["id"], "hello, watcher"), ((string?)events[0]["data"]!["id"], (string?)events[0]["data"]!["content"]));
        Assert.Equal("closed", (string?)events[1]["data"]!["state"]);
        Assert.Equal(id.ToString(), (string?)events[2]["data"]!["session_id"]);
        Assert.All(events, e => Assert.False(string.IsNullOrEmpty((string?)e["id"])));
    }

    public void Dispose() => _cli.Dispose();

    /// <summary>Breaks the first event-stream response after <paramref name="bytes"/> bytes, as a dropped connection would.</summary>
    private sealed class CutOnceHandler(int bytes) : DelegatingHandler
    {
        public int Requests { get; private set; }

        public string? ResumedFrom { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (!request.RequestUri!.AbsolutePath.EndsWith("/events", StringComparison.Ordinal))
            {
                return response;
            }
            if (++Requests > 1)
            {
                ResumedFrom = request.Headers.TryGetValues("Last-Event-ID", out var ids) ? ids.Single() : null;
                return response;
            }
            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var cutContent = new StreamContent(new CutStream(body, bytes));
            foreach (var header in response.Content.Headers)
            {
                cutContent.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
            response.Content = cutContent;
            return response;
        }
    }

    /// <summary>Reads through until <c>limit</c> bytes have passed, then fails like a reset connection.</summary>
    private sealed class CutStream(Stream inner, int limit) : Stream
    {
        private int _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_read >= limit)
            {
                throw new IOException("The connection was reset (cut by the test).");
            }
            var n = await inner.ReadAsync(buffer[..Math.Min(buffer.Length, limit - _read)], cancellationToken);
            _read += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

using System.Diagnostics;
using Raworc.HostAgent.Tools;

namespace Raworc.Tests.HostAgent;

public sealed class ToolTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raworc-tools-" + Guid.NewGuid().ToString("N"));
    private readonly string _outside = Path.Combine(Path.GetTempPath(), "raworc-outside-" + Guid.NewGuid().ToString("N"));

    public ToolTests()
    {
        Directory.CreateDirectory(_root);
        Directory.CreateDirectory(_outside);
    }

    [Fact]
    public async Task BashCapturesStdoutStderrAndExitCodeSeparately()
    {
        var bash = new BashTool(new BashOptions { WorkingDirectory = _root });

        var result = await bash.RunAsync("echo out; echo err >&2; pwd; exit 3").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal($"out\n{_root}\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
        Assert.Equal(3, result.ExitCode);
        Assert.False(result.TimedOut);
    }

    [Theory]
    [InlineData("""{"command":"insert","path":"notes.txt","insert_line":"three","new_str":"x"}""", "Error: insert_line must be an integer.")]
    [InlineData("""{"command":"insert","path":"notes.txt","insert_line":1.5,"new_str":"x"}""", "Error: insert_line must be an integer.")]
    [InlineData("""{"command":"view","path":"notes.txt","view_range":["a","b"]}""", "Error: view_range must be an array of integers.")]
    [InlineData("""{"command":"view","path":"notes.txt","view_range":[1,null]}""", "Error: view_range must be an array of integers.")]
    [InlineData("""{"command":"view","path":"notes.txt","view_range":"1-2"}""", "Error: view_range must be an array of integers.")]
    [InlineData("""{"command":"view","path":"notes.txt","view_range":[2.0,-1]}""", "     2\ttwo\n")]
    public async Task EditorArgumentsOfTheWrongTypeAreNamedInTheErrorWithoutTheRuntimesWordsAndWholeNumbersPass(string arguments, string expected)
    {
        // A model's arguments are whatever it wrote: the tool's answer names the argument, never a .NET type or a null reference.
        File.WriteAllText(Path.Combine(_root, "notes.txt"), "one\ntwo\n");
        var editor = Assert.Single(AgentTools.Create(new BashTool(new BashOptions { WorkingDirectory = _root }),
            new TextEditorTool(new ConfinedPaths(_root))), t => t.Name == TextEditorTool.Name);

        var result = await editor.RunAsync(System.Text.Json.Nodes.JsonNode.Parse(arguments)!.AsObject(), CancellationToken.None);

        Assert.Equal((expected, expected.StartsWith("Error:", StringComparison.Ordinal) ? 1 : 0), (result.Output, result.ExitCode));
    }

    [Fact]
    public async Task ABashCallWhoseCommandIsNotTextIsAskedForACommandAndAToolThatThrowsIsDescribedInWords()
    {
        var tools = AgentTools.Create(new BashTool(new BashOptions { WorkingDirectory = _root }), new TextEditorTool(new ConfinedPaths(_root)));
        var bash = Assert.Single(tools, t => t.Name == AgentTools.BashName);

        var result = await bash.RunAsync(new System.Text.Json.Nodes.JsonObject { ["command"] = 42 }, CancellationToken.None);

        Assert.Equal(("Error: the bash tool needs a command.", 1), (result.Output, result.ExitCode));

        // A tool that throws what nobody foresaw: the model and the history read words, not the runtime's message.
        var recorded = new List<Raworc.HostAgent.Turns.ToolCallRecord>();
        var throwing = new Raworc.HostAgent.Turns.RecordingFunction(
            new AgentTool("broken", "Throws.", bash.Schema, (_, _) => throw new InvalidOperationException("Nullable object must have a value (System.Int32).")),
            new Raworc.HostAgent.Turns.Redactor([]), (call, _) => { recorded.Add(call); return Task.CompletedTask; });

        var answer = await throwing.InvokeAsync(new Microsoft.Extensions.AI.AIFunctionArguments(), CancellationToken.None);

        Assert.Equal("Error: the tool failed (an unexpected error).", answer?.ToString());
        Assert.Equal([("broken", 1, "Error: the tool failed (an unexpected error).")], recorded.Select(r => (r.Tool, r.ExitCode, r.Output)));
    }

    [Fact]
    public async Task StandbyShellRunsCommandsIntactAndReplacesAStandbyACommandEnded()
    {
        var bash = new BashTool(new BashOptions { WorkingDirectory = _root, StandbyShell = true });

        // Quotes, a newline and a non-ASCII letter travel through the launcher's stdin; `cat` then meets end-of-file.
        var first = await bash.RunAsync("printf '%s|' \"é\" 'a  b'\ncat; echo end").WaitAsync(TimeSpan.FromSeconds(30));
        // The launcher started ahead for the next command is a child of this process waiting on its stdin; end it.
        var killer = await bash.RunAsync($"kill {OwnLaunchers}; echo $?").WaitAsync(TimeSpan.FromSeconds(30));
        var after = await bash.RunAsync("echo again").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("é|a  b|end\n", first.Stdout);
        Assert.Equal("0\n", killer.Stdout);
        Assert.Equal("again\n", after.Stdout);
        Assert.Equal(0, after.ExitCode);
    }

    [Fact]
    public async Task ACommandHandedToAStandbyThatDiesBeforeReadingItRunsInAFreshShell()
    {
        var bash = new BashTool(new BashOptions { WorkingDirectory = _root, StandbyShell = true });
        await bash.RunAsync("true").WaitAsync(TimeSpan.FromSeconds(30));

        // The standby stops (alive: the next command's bytes go into its stdin) and is killed a second later, before it
        // reads them; the standby the next command starts ahead is killed with it, so that one's replacement runs "again".
        var stopper = await bash.RunAsync(
            $"own={OwnLaunchers}; [ -n \"$own\" ] && kill -STOP $own && echo stopped; (sleep 1; kill -KILL $own) >/dev/null 2>&1 &")
            .WaitAsync(TimeSpan.FromSeconds(30));
        var after = await bash.RunAsync("echo again").WaitAsync(TimeSpan.FromSeconds(30));
        var next = await bash.RunAsync("echo next").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("stopped\n", stopper.Stdout);
        Assert.Equal(("again\n", "", 0), (after.Stdout, after.Stderr, after.ExitCode));
        Assert.Equal(("next\n", "", 0), (next.Stdout, next.Stderr, next.ExitCode));
    }

    [Fact]
    public async Task ACommandHandedToAStandbyThatWasStoppedRunsInAFreshShellAfterTheHandoverTimeout()
    {
        // Stopped and never resumed: the command's bytes go into its pipe and nothing reads them. The stopped launcher is
        // then killed; the command runs in a fresh one.
        var (bash, stopper) = await StoppedStandbyAsync();
        var after = await bash.RunAsync("echo again").WaitAsync(TimeSpan.FromSeconds(30));
        var stopped = await bash.RunAsync("for p in $(pgrep -P $PPID); do [ \"$(readlink /proc/$p/cwd)\" = \"$(pwd -P)\" ] && ps -o stat= -p $p; done | grep -c '^T' || true").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("stopped\n", stopper.Stdout);
        Assert.Equal(("again\n", "", 0), (after.Stdout, after.Stderr, after.ExitCode));
        Assert.Equal("0\n", stopped.Stdout);
    }

    [Fact]
    public async Task ACommandLongerThanLinuxLetsOneArgumentBeRunsWholeWithAndWithoutAProcessLimit()
    {
        // 300,000 characters, a heredoc as a model writes a big file with: past the 128 KiB one argument may hold, which
        // `bash -c` was given the command as ("Argument list too long", 126, before).
        var body = string.Join('\n', Enumerable.Range(0, 30_000).Select(i => $"line {i:D5}"));
        var command = $"cat > big.txt <<'EOF'\n{body}\nEOF\nwc -c < big.txt; head -n 1 big.txt; tail -n 1 big.txt; echo \"$0\" | cut -c1-8";
        foreach (var limit in new int?[] { null, 256 })
        {
            var bash = new BashTool(new BashOptions { WorkingDirectory = _root, ProcessLimit = limit });

            var result = await bash.RunAsync(command).WaitAsync(TimeSpan.FromSeconds(60));

            Assert.True(command.Length > 300_000, $"{command.Length}");
            Assert.Equal(("330000\nline 00000\nline 29999\n/dev/fd/\n", "", 0), (result.Stdout, result.Stderr, result.ExitCode));
        }
    }

    [Fact]
    public async Task ACommandLongerThanThePipeHandedToAStoppedStandbyRunsInAFreshShell()
    {
        var (bash, stopper) = await StoppedStandbyAsync();

        // 100,000 characters: more than a pipe's 64 KiB, so the write into the stopped launcher's stdin cannot finish and
        // the handover's timeout must end it (a write that ignored it would hang the turn for good). The fresh launcher
        // then hands it to bash as a script on a file descriptor (it is past 30,000 characters).
        var padding = new string('#', 100_000);
        var after = await bash.RunAsync($"echo long\n: '{padding}'").WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("stopped\n", stopper.Stdout);
        Assert.Equal(("long\n", "", 0), (after.Stdout, after.Stderr, after.ExitCode));
    }

    /// <summary>
    /// Bash text listing the pids of this test's waiting launchers: children of the test process (the commands' <c>$PPID</c>)
    /// in the launcher's <c>read</c> whose folder is this test's own. Other test classes run their tools in the same process
    /// at the same time: a signal to every launcher of the process stopped or killed their standbys too.
    /// </summary>
    private const string OwnLaunchers =
        "$(for p in $(pgrep -P $PPID -f 'IFS= rea[d] -r'); do [ \"$(readlink /proc/$p/cwd)\" = \"$(pwd -P)\" ] && echo $p; done)";

    /// <summary>
    /// A bash tool with a standby launcher and a 1 s handover, whose standby a command has stopped (SIGSTOP, never
    /// resumed); the stopping command's result says "stopped" when it found the standby.
    /// </summary>
    private async Task<(BashTool Bash, BashResult Stopper)> StoppedStandbyAsync()
    {
        var bash = new BashTool(new BashOptions { WorkingDirectory = _root, StandbyShell = true, HandoverTimeout = TimeSpan.FromSeconds(1) });
        await bash.RunAsync("true").WaitAsync(TimeSpan.FromSeconds(30));
        var stopper = await bash.RunAsync($"own={OwnLaunchers}; [ -n \"$own\" ] && kill -STOP $own && echo stopped").WaitAsync(TimeSpan.FromSeconds(30));
        return (bash, stopper);
    }

    [Fact]
    public async Task SleepPastTheTimeoutIsKilledWithItsWholeProcessTree()
    {
        var marker = "raworc-" + Guid.NewGuid().ToString("N")[..8];
        var bash = new BashTool(new BashOptions { WorkingDirectory = _root, Timeout = TimeSpan.FromSeconds(2) });
        var stopwatch = Stopwatch.StartNew();

        // The subshell and the background sleep are grandchildren: the group kill must reach them too.
        var result = await bash.RunAsync($"echo started; (exec -a {marker} sleep 600) & exec -a {marker} sleep 600").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.TimedOut);
        Assert.Equal(BashTool.TimeoutExitCode, result.ExitCode);
        Assert.Equal("started\n", result.Stdout);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20));
        Assert.Empty(await RemainingProcessesAsync(marker));
        Assert.Contains("timed out after 2 s", result.ToModelText(TimeSpan.FromSeconds(2)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FiveMegabytesOfOutputAreCappedKeepingHeadAndTail()
    {
        var bash = new BashTool(new BashOptions { WorkingDirectory = _root, MaxOutputChars = 30_000 });

        var result = await bash.RunAsync("printf 'HEAD'; head -c 5000000 /dev/zero | tr '\\0' 'x'; printf 'TAIL'").WaitAsync(TimeSpan.FromSeconds(60));

        var expected = "HEAD" + new string('x', 14_996) + "\n[... 4970008 characters omitted ...]\n" + new string('x', 14_996) + "TAIL";
        Assert.Equal(expected, result.Stdout);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public void StrReplaceEditsExactlyOneOccurrenceAndUndoRestoresTheFile()
    {
        var editor = new TextEditorTool(new ConfinedPaths(_root));
        var file = Path.Combine(_root, "app.txt");
        File.WriteAllText(file, "alpha\nbeta\ngamma\n");

        editor.StrReplace("app.txt", "beta", "BETA");
        Assert.Equal("alpha\nBETA\ngamma\n", File.ReadAllText(file));
        editor.UndoEdit(file);

        Assert.Equal("alpha\nbeta\ngamma\n", File.ReadAllText(file));
    }

    [Fact]
    public void UndoHistoryKeepsTheLastEditsWithinItsBudgetAndSaysWhenOlderOnesWereDropped()
    {
        // Three entries of a 1,000-byte file fit the budget (each counts its bytes and 64 more); each later edit drops the oldest.
        var budget = 3 * (1000 + TextEditorTool.UndoEntryBytes);
        var editor = new TextEditorTool(new ConfinedPaths(_root), maxUndoBytes: budget);
        var file = Path.Combine(_root, "big.txt");
        File.WriteAllText(file, string.Concat(Enumerable.Range(0, 5).Select(n => $"[{n}]")).PadRight(1000, 'x'));
        var versions = new List<string> { File.ReadAllText(file) };
        for (var n = 0; n < 5; n++)
        {
            editor.StrReplace("big.txt", $"[{n}]", $"({n})");
            versions.Add(File.ReadAllText(file));
        }

        for (var n = 4; n >= 2; n--)
        {
            Assert.Equal($"Last edit to {file} undone.", editor.UndoEdit("big.txt"));
            Assert.Equal(versions[n], File.ReadAllText(file));
        }
        var dropped = Assert.Throws<ToolException>(() => editor.UndoEdit("big.txt"));
        var never = Assert.Throws<ToolException>(() => editor.UndoEdit("other.txt"));

        Assert.Equal($"No edit to undo for {file}: the editor keeps the earlier contents of its last edits up to {budget} bytes over all files, and this file's older ones were dropped.", dropped.Message);
        Assert.Equal($"No edit to undo for {_root}/other.txt.", never.Message);
        Assert.Equal(versions[2], File.ReadAllText(file));
    }

    [Fact]
    public void UndoRestoresTheFilesBytesAsTheyWereWithItsByteOrderMarkAndBytesThatAreNotUtf8()
    {
        var editor = new TextEditorTool(new ConfinedPaths(_root));
        var file = Path.Combine(_root, "latin1.txt");
        byte[] original = [0xEF, 0xBB, 0xBF, (byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'\n', (byte)'o', (byte)'k', (byte)'\n'];
        File.WriteAllBytes(file, original);

        editor.StrReplace("latin1.txt", "ok", "fine");
        editor.UndoEdit("latin1.txt");

        Assert.Equal(original, File.ReadAllBytes(file));
    }

    [Fact]
    public void AFolderOfManyEntriesIsViewedAsItsFirstThousandByNameAndACountAndABigTreeIsCutWhileListed()
    {
        // Made in a shuffled order, so the first by name are not the first the folder gives.
        var folder = Directory.CreateDirectory(Path.Combine(_root, "many")).FullName;
        for (var i = 0; i < 3000; i++)
        {
            File.Create(Path.Combine(folder, $"f{i * 7919 % 3000:D4}")).Dispose();
        }
        Directory.CreateDirectory(Path.Combine(folder, ".hidden"));
        var editor = new TextEditorTool(new ConfinedPaths(_root), maxOutputChars: 1_000_000);

        var lines = editor.View("many").Split('\n');

        Assert.Equal(
            [
                $"Files and directories up to 2 levels deep in {folder}, excluding hidden items:",
                .. Enumerable.Range(0, 1000).Select(n => $"{folder}/f{n:D4}"),
                $"… and 2000 more in {folder}/ (only the first 1000 by name are listed)",
                "",
            ],
            lines);

        // Listed two levels deep until the next line would pass the output's length, then one line saying so.
        var small = new TextEditorTool(new ConfinedPaths(_root), maxOutputChars: 2_000);
        var cut = small.View("many");
        Assert.True(cut.Length <= 2_000, cut);
        Assert.EndsWith($"{folder}/f{cut.Split('\n').Length - 4:D4}\n… the listing stops here, at 2000 characters; use bash (ls, find) for the rest.\n", cut, StringComparison.Ordinal);
    }

    [Fact]
    public void StrReplaceRefusesAnAmbiguousOrMissingString()
    {
        var editor = new TextEditorTool(new ConfinedPaths(_root));
        File.WriteAllText(Path.Combine(_root, "a.txt"), "x = 1\nx = 1\n");

        var twice = Assert.Throws<ToolException>(() => editor.StrReplace("a.txt", "x = 1", "x = 2"));
        var missing = Assert.Throws<ToolException>(() => editor.StrReplace("a.txt", "y", "z"));

        Assert.Equal($"No replacement was performed: old_str appears 2 times in {_root}/a.txt (first on lines 1 and 2); include more context to make it unique.", twice.Message);
        Assert.Equal($"No replacement was performed: old_str did not appear verbatim in {_root}/a.txt.", missing.Message);
        Assert.Equal("x = 1\nx = 1\n", File.ReadAllText(Path.Combine(_root, "a.txt")));
    }

    [Fact]
    public void ViewInsertAndCreateWorkOnLines()
    {
        var editor = new TextEditorTool(new ConfinedPaths(_root));
        editor.Create("code/notes.md", "one\nthree\n");
        editor.Insert("code/notes.md", 1, "two");

        Assert.Equal("     1\tone\n     2\ttwo\n     3\tthree\n", editor.View("code/notes.md"));
        Assert.Equal("     2\ttwo\n", editor.View("code/notes.md", [2, 2]));
        editor.UndoEdit("code/notes.md");
        editor.UndoEdit("code/notes.md");
        Assert.False(File.Exists(Path.Combine(_root, "code", "notes.md")));
    }

    [Fact]
    public void PathsEscapingTheRootAreRefused()
    {
        var editor = new TextEditorTool(new ConfinedPaths(_root));
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "outside");
        File.CreateSymbolicLink(Path.Combine(_root, "link.txt"), Path.Combine(_outside, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "dir"), _outside);

        var dotDot = Assert.Throws<ToolException>(() => editor.View("../" + Path.GetFileName(_outside) + "/secret.txt"));
        var absolute = Assert.Throws<ToolException>(() => editor.Create("/etc/raworc-test", "x"));
        var fileLink = Assert.Throws<ToolException>(() => editor.View("link.txt"));
        var dirLink = Assert.Throws<ToolException>(() => editor.Create("dir/new.txt", "x"));

        Assert.Equal($"The path '../{Path.GetFileName(_outside)}/secret.txt' is outside {_root}; only files under {_root} can be used.", dotDot.Message);
        Assert.Equal($"The path '/etc/raworc-test' is outside {_root}; only files under {_root} can be used.", absolute.Message);
        Assert.Equal($"The path 'link.txt' goes through a symbolic link that leads outside {_root}.", fileLink.Message);
        Assert.Equal($"The path 'dir/new.txt' goes through a symbolic link that leads outside {_root}.", dirLink.Message);
        Assert.False(File.Exists(Path.Combine(_outside, "new.txt")));
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    // Killed processes vanish once reaped; give the reaper a moment, within a bound.
    private static async Task<string[]> RemainingProcessesAsync(string marker)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        string[] remaining;
        while ((remaining = await ProcessesNamedAsync(marker)).Length > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        return remaining;
    }

    private static async Task<string[]> ProcessesNamedAsync(string marker)
    {
        using var ps = Process.Start(new ProcessStartInfo("ps", "-eo args") { RedirectStandardOutput = true })!;
        var output = await ps.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return [.. output.Split('\n').Where(line => line.StartsWith(marker, StringComparison.Ordinal))];
    }
}

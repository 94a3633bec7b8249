using Raworc.HostAgent.Tools;

namespace Raworc.Tests.HostAgent;

/// <summary>The editor's confinement against real files and links in a temp folder, judged as the kernel would resolve them.</summary>
public sealed class ConfinedPathsTests : IDisposable
{
    private readonly string _base = Path.Combine(Path.GetTempPath(), "raworc-confined-" + Guid.NewGuid().ToString("N"));
    private readonly string _root;
    private readonly string _outside;
    private readonly TextEditorTool _editor;

    public ConfinedPathsTests()
    {
        _root = Path.Combine(_base, "session");
        _outside = Path.Combine(_base, "etc");
        Directory.CreateDirectory(Path.Combine(_outside, "sub"));
        File.WriteAllText(Path.Combine(_outside, "passwd"), "root:x:0:0\n");
        _editor = new TextEditorTool(new ConfinedPaths(_root));
    }

    [Fact]
    public void ALinkWhoseTargetPassesThroughALinkedFolderIsRefusedByEveryCommand()
    {
        // ln -s /etc y; ln -s /session/y/passwd x: x's target looks inside the root, but y in its middle leads out.
        Directory.CreateSymbolicLink(Path.Combine(_root, "y"), _outside);
        File.CreateSymbolicLink(Path.Combine(_root, "x"), Path.Combine(_root, "y", "passwd"));

        var absolute = Path.Combine(_root, "x");
        var refusals = new (string Path, Action Call)[]
        {
            ("x", () => _editor.View("x")),
            (absolute, () => _editor.View(absolute)),
            ("x", () => _editor.Create("x", "overwritten")),
            ("x", () => _editor.StrReplace("x", "root", "evil")),
            ("x", () => _editor.Insert("x", 0, "evil")),
            ("x", () => _editor.UndoEdit("x")),
        };

        Assert.All(refusals, refusal => Assert.Equal(
            $"The path '{refusal.Path}' goes through a symbolic link that leads outside {_root}.",
            Assert.Throws<ToolException>(refusal.Call).Message));
        Assert.Equal("root:x:0:0\n", File.ReadAllText(Path.Combine(_outside, "passwd")));
    }

    [Fact]
    public void ALinkedFolderInTheMiddleOfAGivenPathIsRefused()
    {
        Directory.CreateDirectory(Path.Combine(_root, "code"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "code", "etc"), _outside);

        var refusal = Assert.Throws<ToolException>(() => _editor.View("code/etc/passwd"));

        Assert.Equal($"The path 'code/etc/passwd' goes through a symbolic link that leads outside {_root}.", refusal.Message);
    }

    [Fact]
    public void ChainsOfLinksAreFollowedToTheirLastTarget()
    {
        Directory.CreateDirectory(Path.Combine(_root, "data"));
        File.WriteAllText(Path.Combine(_root, "data", "notes.txt"), "inside\n");
        // a → b (relative) → c (absolute) → data/notes.txt; x → d → e → outside passwd.
        File.CreateSymbolicLink(Path.Combine(_root, "c"), Path.Combine(_root, "data", "notes.txt"));
        File.CreateSymbolicLink(Path.Combine(_root, "b"), Path.Combine(_root, "c"));
        File.CreateSymbolicLink(Path.Combine(_root, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(_root, "e"), Path.Combine(_outside, "passwd"));
        File.CreateSymbolicLink(Path.Combine(_root, "d"), "e");
        File.CreateSymbolicLink(Path.Combine(_root, "x"), "d");

        Assert.Equal(Path.Combine(_root, "data", "notes.txt"), _editor.Paths.Resolve("a"));
        Assert.Equal("     1\tinside\n", _editor.View("a"));
        Assert.Equal($"The path 'x' goes through a symbolic link that leads outside {_root}.", Assert.Throws<ToolException>(() => _editor.View("x")).Message);
    }

    [Fact]
    public void DotDotAfterALinkClimbsFromTheLinksTarget()
    {
        // As the kernel does: y/.. is the parent of y's target, not the folder holding y.
        Directory.CreateSymbolicLink(Path.Combine(_root, "y"), Path.Combine(_outside, "sub"));
        File.WriteAllText(Path.Combine(_root, "passwd"), "the session's own file\n");
        Directory.CreateDirectory(Path.Combine(_root, "deep", "inner"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "inner"), Path.Combine(_root, "deep", "inner"));

        var refusal = Assert.Throws<ToolException>(() => _editor.View("y/../passwd"));
        _editor.Create("inner/../made.txt", "made\n");

        Assert.Equal($"The path 'y/../passwd' goes through a symbolic link that leads outside {_root}.", refusal.Message);
        Assert.Equal("made\n", File.ReadAllText(Path.Combine(_root, "deep", "made.txt")));
        Assert.False(File.Exists(Path.Combine(_root, "made.txt")));
    }

    [Fact]
    public void ALinkLoopIsAToolError()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "ping"), "pong");
        File.CreateSymbolicLink(Path.Combine(_root, "pong"), "ping");
        File.CreateSymbolicLink(Path.Combine(_root, "self"), Path.Combine(_root, "self", "x"));

        var loop = Assert.Throws<ToolException>(() => _editor.View("ping/file.txt"));
        var self = Assert.Throws<ToolException>(() => _editor.Create("self", "x"));

        Assert.Equal($"The path 'ping/file.txt' passes through more than {ConfinedPaths.MaxLinks} symbolic links (a link loop?).", loop.Message);
        Assert.Equal($"The path 'self' passes through more than {ConfinedPaths.MaxLinks} symbolic links (a link loop?).", self.Message);
    }

    [Fact]
    public void APathHoldingANulCharacterIsAToolError() =>
        Assert.Equal("A path cannot contain a NUL character.", Assert.Throws<ToolException>(() => _editor.View("a\0b")).Message);

    [Fact]
    public void ANewFileUnderALinkedFolderThatLeavesTheRootIsNotCreated()
    {
        // w's target is written as a path inside the root; y inside it is the way out.
        Directory.CreateSymbolicLink(Path.Combine(_root, "y"), _outside);
        Directory.CreateSymbolicLink(Path.Combine(_root, "w"), Path.Combine(_root, "y", "sub"));

        var direct = Assert.Throws<ToolException>(() => _editor.Create("w/new.txt", "x"));
        var nested = Assert.Throws<ToolException>(() => _editor.Create("w/a/b/new.txt", "x"));

        Assert.Equal($"The path 'w/new.txt' goes through a symbolic link that leads outside {_root}.", direct.Message);
        Assert.Equal($"The path 'w/a/b/new.txt' goes through a symbolic link that leads outside {_root}.", nested.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_outside, "sub")));
    }

    [Fact]
    public void ARootReachedThroughALinkAcceptsPathsWrittenThroughThatLink()
    {
        var alias = Path.Combine(_base, "alias");
        Directory.CreateSymbolicLink(alias, _root);
        var paths = new ConfinedPaths(alias);

        Assert.Equal(_root, paths.Root);
        Assert.Equal(Path.Combine(_root, "a.txt"), paths.Resolve(Path.Combine(alias, "a.txt")));
        Assert.Equal(Path.Combine(_root, "new", "b.txt"), paths.Resolve("new/../new/b.txt"));
    }

    public void Dispose() => Directory.Delete(_base, recursive: true);
}

namespace Raworc.Tests.Infrastructure;

/// <summary>Locates the repository's files from the test's output folder.</summary>
public static class Repository
{
    /// <summary>The folder that holds <c>Raworc.sln</c>.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Raworc.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Raworc.sln not found above " + AppContext.BaseDirectory);
    }
}

namespace Sensor.TestSupport;

/// <summary>Locates the repository and the read-only shared material beside it (../shared).</summary>
public static class SharedData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Sensor.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Sensor.sln not found above " + AppContext.BaseDirectory);
    }

    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
    public static string Corpus => Path.Combine(Shared, "corpus");
    public static string Captures => Path.Combine(RepoRoot, "captures");
    public static string CorpusFile(string name) => Path.Combine(Corpus, name);
}

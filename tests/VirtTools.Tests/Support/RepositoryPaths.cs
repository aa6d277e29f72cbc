namespace VirtTools.Tests.Support;

/// <summary>Where the repository, its scenarios and the shared fixtures are, seen from the test binary.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>../shared beside the clone (CI places it there), or $VIRTTOOLS_SHARED.</summary>
    public static string Shared =>
        Environment.GetEnvironmentVariable("VIRTTOOLS_SHARED") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    public static string Scenarios => Path.Combine(Root, "tests", "scenarios");

    /// <summary>The module as the test binary carries it (imported once per process: binary modules cannot unload).</summary>
    public static string ModuleManifest => Path.Combine(AppContext.BaseDirectory, "VirtTools.psd1");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "VirtTools.psd1")) && Directory.Exists(Path.Combine(dir.FullName, "src")))
                return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root above " + AppContext.BaseDirectory);
    }
}

namespace VirtTools.Tests.Support;

/// <summary>Where the repository, its scenarios and its captured fixtures are, seen from the test binary.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>tests/fixtures: the captured kernel trees the tests read, committed with the code that reads them.</summary>
    public static string Fixtures => Path.Combine(Root, "tests", "fixtures");

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

namespace VirtTools.Bench;

/// <summary>
/// Real pwsh 7.6.9, the .NET tool the repository's manifest names: `dotnet tool run pwsh` once `dotnet tool restore`
/// ran, which is pwsh.dll in the NuGet package folder run by dotnet.
/// </summary>
public static class Pwsh
{
    private const string Version = "7.6.9";

    /// <summary>The program and arguments that run pwsh with <paramref name="arguments"/>; null when the tool is not restored.</summary>
    public static (string Program, string[] Arguments)? Command(params string[] arguments)
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var dll = Path.Combine(packages, "powershell", Version, "tools", "net10.0", "any", "unix", "pwsh.dll");
        return File.Exists(dll) ? ("dotnet", arguments.Prepend(dll).ToArray()) : null;
    }
}

namespace VirtTools.Bench;

/// <summary>
/// Real pwsh 7.6.9, the .NET tool the repository's manifest names: `dotnet tool run pwsh` once `dotnet tool restore`
/// ran, which is pwsh.dll in the NuGet package folder run by dotnet.
/// </summary>
public static class Pwsh
{
    private const string Version = "7.6.9";

    /// <summary>The program and arguments that run pwsh with <paramref name="arguments"/>; null when the tool is not restored.</summary>
    public static (string Program, string[] Arguments)? Command(params string[] arguments) => Run(ToolFolder, arguments);

    /// <summary>
    /// The same pwsh with PowerShell's own assemblies precompiled: the .NET tool ships them as IL only (JIT-compiled on
    /// every start), while a runtime-specific publish of PowerShell is ReadyToRun. Made once under
    /// <paramref name="work"/> as a copy of the tool whose assemblies are replaced by the ReadyToRun copies of the same
    /// 7.6.9 assemblies in the published host (<paramref name="publishedHost"/>); null when either is missing.
    /// </summary>
    public static (string Program, string[] Arguments)? PrecompiledCommand(string publishedHost, string work, params string[] arguments)
    {
        var folder = Path.Combine(work, "pwsh-readytorun");
        if (!File.Exists(Path.Combine(folder, "pwsh.dll")))
        {
            if (!File.Exists(Path.Combine(ToolFolder, "pwsh.dll")) || !File.Exists(Path.Combine(publishedHost, "System.Management.Automation.dll"))) return null;
            CopyFolder(ToolFolder, folder);
            foreach (var assembly in Directory.GetFiles(folder, "*.dll"))
            {
                var precompiled = Path.Combine(publishedHost, Path.GetFileName(assembly));
                if (File.Exists(precompiled)) File.Copy(precompiled, assembly, overwrite: true);
            }
        }
        return Run(folder, arguments);
    }

    private static string ToolFolder
    {
        get
        {
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
                ? configured
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(packages, "powershell", Version, "tools", "net10.0", "any", "unix");
        }
    }

    private static (string Program, string[] Arguments)? Run(string folder, string[] arguments)
    {
        var dll = Path.Combine(folder, "pwsh.dll");
        return File.Exists(dll) ? ("dotnet", arguments.Prepend(dll).ToArray()) : null;
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
    }
}

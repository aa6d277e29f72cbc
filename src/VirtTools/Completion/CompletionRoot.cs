using System.Collections;
using System.Management.Automation;
using VirtTools.Sysfs;

namespace VirtTools.Commands.Completion;

/// <summary>
/// The root a completer reads under: the -Root already typed on the command line, else $env:VIRTTOOLS_ROOT,
/// else "/" (what the command itself will read once it runs). Null when that folder does not exist.
/// </summary>
internal static class CompletionRoot
{
    public static SystemRoot? From(IDictionary? fakeBoundParameters)
    {
        var typed = fakeBoundParameters?.Contains(nameof(VirtToolsCmdlet.Root)) == true
            ? Unwrap(fakeBoundParameters[nameof(VirtToolsCmdlet.Root)])
            : null;
        var root = SystemRoot.FromParameter(typed is null ? null : Resolve(typed));
        return Directory.Exists(root.Path) ? root : null;
    }

    private static string? Unwrap(object? value) => (value is PSObject wrapped ? wrapped.BaseObject : value) as string;

    // Resolved as the cmdlet will resolve it (relative to the PowerShell location, ~ and drives allowed), not
    // against the process's working directory, which Set-Location does not move.
    private static string Resolve(string path)
    {
        using var shell = PowerShell.Create(RunspaceMode.CurrentRunspace);
        shell.AddScript("param($p) $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($p)").AddArgument(path);
        return shell.Invoke<string>().FirstOrDefault() ?? path;
    }
}

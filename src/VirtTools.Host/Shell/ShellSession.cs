using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace VirtTools.Host.Shell;

/// <summary>What a script produced: its output objects, the errors it wrote, and whether it stopped on one.</summary>
public sealed record ShellResult(Collection<PSObject> Output, IReadOnlyList<ErrorRecord> Errors, RuntimeException? Terminating)
{
    public bool Succeeded => Errors.Count == 0 && Terminating is null;
}

/// <summary>
/// A runspace with the VirtTools module imported, driven through a <see cref="TextHost"/>.
/// The executable and the tests run scripts the same way.
/// </summary>
public sealed class ShellSession : IDisposable
{
    private readonly Runspace _runspace;

    public ShellSession(TextHost host, string? manifestPath = null)
    {
        Host = host;
        // Do not set an execution policy: on Linux, Open() throws PlatformNotSupportedException for it.
        var state = InitialSessionState.CreateDefault2();
        _runspace = RunspaceFactory.CreateRunspace(host, state);
        _runspace.Open();
        ManifestPath = manifestPath ?? DefaultManifestPath;
        var import = Run("param($manifest) Import-Module $manifest -ErrorAction Stop", new Dictionary<string, object?> { ["manifest"] = ManifestPath });
        if (!import.Succeeded)
            throw new InvalidOperationException($"Cannot import {ManifestPath}: {import.Terminating?.Message ?? import.Errors[0].ToString()}");
    }

    /// <summary>
    /// The module shipped with the executable: in the VirtTools/ subfolder of a self-contained publish, else beside it.
    /// A published host is its own $PSHOME, and PowerShell cannot load the format file of a manifest that sits directly
    /// in $PSHOME on Linux (it opens "$PSHOME\VirtTools.format.ps1xml", with a backslash).
    /// </summary>
    public static string DefaultManifestPath
    {
        get
        {
            var published = Path.Combine(AppContext.BaseDirectory, "VirtTools", "VirtTools.psd1");
            return File.Exists(published) ? published : Path.Combine(AppContext.BaseDirectory, "VirtTools.psd1");
        }
    }

    public TextHost Host { get; }

    public string ManifestPath { get; }

    public Runspace Runspace => _runspace;

    /// <summary>Runs a script; with <paramref name="render"/>, its output goes through Out-Default to the host.</summary>
    public ShellResult Run(string script, IDictionary<string, object?>? parameters = null, bool render = false) =>
        Invoke(ps =>
        {
            ps.AddScript(script);
            foreach (var (name, value) in parameters ?? new Dictionary<string, object?>()) ps.AddParameter(name, value);
        }, render);

    /// <summary>
    /// Runs a script file with its command-line arguments, as `pwsh -File` does: "-Name" tokens name parameters
    /// (or set switches), everything else is a literal value.
    /// </summary>
    public ShellResult RunFile(string path, IEnumerable<string> arguments, bool render = false) =>
        Run("& " + string.Join(' ', new[] { Path.GetFullPath(path) }.Concat(arguments).Select((a, i) => i > 0 && IsParameterName(a) ? a : Quote(a))), render: render);

    private static bool IsParameterName(string token) =>
        System.Text.RegularExpressions.Regex.IsMatch(token, @"^-[A-Za-z_][A-Za-z0-9_]*:?$");

    private static string Quote(string literal) => "'" + literal.Replace("'", "''") + "'";

    private ShellResult Invoke(Action<PowerShell> build, bool render)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        build(ps);
        if (render) ps.AddCommand("Out-Default");
        Collection<PSObject> output;
        RuntimeException? terminating = null;
        try
        {
            output = ps.Invoke();
        }
        catch (RuntimeException e)
        {
            output = new Collection<PSObject>();
            terminating = e;
        }
        return new ShellResult(output, ps.Streams.Error.ToList(), terminating);
    }

    public void Dispose() => _runspace.Dispose();
}

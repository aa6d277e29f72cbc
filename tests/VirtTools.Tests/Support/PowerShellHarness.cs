using System.Management.Automation;
using VirtTools.Host.Shell;
using Xunit;

namespace VirtTools.Tests.Support;

/// <summary>PowerShell-level tests share the process-wide module, so they never run in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PowerShellCollection
{
    public const string Name = "PowerShell";
}

/// <summary>
/// A fresh runspace with the built module imported, its host rendering to strings. Each test gets its own
/// session; `Run` returns output objects, errors and what the host printed (tables, What if:, warnings).
/// </summary>
public sealed class PowerShellHarness : IDisposable
{
    private readonly StringWriter _output = new();
    private readonly StringWriter _error = new();
    private readonly ShellSession _session;

    public PowerShellHarness(int width = 160)
    {
        Host = new TextHost(_output, _error, width);
        _session = new ShellSession(Host, RepositoryPaths.ModuleManifest);
    }

    public TextHost Host { get; }

    /// <summary>Everything the host printed so far: Out-Default tables, What if: lines.</summary>
    public string HostText => _output.ToString();

    /// <summary>Warnings, verbose and error lines the host printed.</summary>
    public string HostErrorText => _error.ToString();

    public ShellResult Run(string script, IDictionary<string, object?>? parameters = null, bool render = false) =>
        _session.Run(script, parameters, render);

    /// <summary>Stops the running script as virttools' Ctrl+C handler does.</summary>
    public void Stop() => _session.Stop();

    /// <summary>Runs a script that must succeed and returns its output.</summary>
    public IReadOnlyList<PSObject> Ok(string script, IDictionary<string, object?>? parameters = null)
    {
        var result = Run(script, parameters);
        Assert.True(result.Succeeded, Describe(result));
        return result.Output;
    }

    /// <summary>Output objects unwrapped to their .NET values.</summary>
    public IReadOnlyList<T> Ok<T>(string script, IDictionary<string, object?>? parameters = null) =>
        Ok(script, parameters).Select(o => (T)o.BaseObject).ToList();

    public static string Describe(ShellResult result) =>
        string.Join("\n", result.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}\n{e.ScriptStackTrace}")
            .Concat(result.Terminating is { } t ? new[] { $"terminating {t.ErrorRecord.FullyQualifiedErrorId}: {t.Message}\n{t.ErrorRecord.ScriptStackTrace}" } : Array.Empty<string>()));

    public void Dispose() => _session.Dispose();
}

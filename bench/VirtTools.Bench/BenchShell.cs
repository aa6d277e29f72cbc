using System.Management.Automation;
using VirtTools.Host.Shell;

namespace VirtTools.Bench;

/// <summary>A hosted runspace with the module imported, its host printing nowhere: the path `virttools -c` takes.</summary>
public sealed class BenchShell : IDisposable
{
    private readonly ShellSession _session = new(new TextHost(TextWriter.Null, TextWriter.Null));

    /// <summary>Runs a script that must succeed; returns how many objects it output.</summary>
    public int Count(string script, IDictionary<string, object?>? parameters = null) => Run(script, parameters).Count;

    public IReadOnlyList<PSObject> Run(string script, IDictionary<string, object?>? parameters = null)
    {
        var result = _session.Run(script, parameters);
        if (!result.Succeeded)
            throw new InvalidOperationException($"Benchmark script failed: {script}\n{result.Terminating?.Message ?? result.Errors[0].ToString()}");
        return result.Output;
    }

    public static Dictionary<string, object?> Args(params (string Name, object? Value)[] values) => values.ToDictionary(v => v.Name, v => v.Value);

    public void Dispose() => _session.Dispose();
}

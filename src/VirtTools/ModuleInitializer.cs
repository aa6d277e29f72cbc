using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace VirtTools.Commands;

/// <summary>
/// On Import-Module, sends the engine's third-party dependencies to <see cref="DependencyLoadContext"/>. The cmdlets and
/// the engine stay in the default context, so their types resolve as type literals ([VirtTools.Pci.PciDevice]) and
/// match the format views; only what could clash with another module's copy (YamlDotNet) is isolated.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    /// <summary>A subfolder, because PowerShell and LoadFrom find assemblies beside the module's own and would load
    /// them into the default context.</summary>
    private static readonly DependencyLoadContext Dependencies = new(
        Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "dependencies"));

    private static int _registered;

    public void OnImport()
    {
        // Once per process: assemblies never unload, and a second Import-Module must not add a second handler.
        if (Interlocked.Exchange(ref _registered, 1) == 0) AssemblyLoadContext.Default.Resolving += ResolveDependency;
    }

    /// <summary>
    /// The default context asks only for what it cannot bind itself: in pwsh, the engine's YamlDotNet even when a
    /// session holds an older one. Where everything is on the application's path (the virttools host, the tests),
    /// it never asks.
    /// </summary>
    private static Assembly? ResolveDependency(AssemblyLoadContext context, AssemblyName name) =>
        Dependencies.Carries(name) ? Dependencies.LoadFromAssemblyName(name) : null;
}

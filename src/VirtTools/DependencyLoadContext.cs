using System.Reflection;
using System.Runtime.Loader;

namespace VirtTools.Commands;

/// <summary>
/// The module's third-party dependencies (YamlDotNet), loaded from its dependencies/ folder into a context of their own.
/// A session that already loaded another version of one (another YAML module did) keeps its copy, and we keep ours.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private readonly string _folder;

    public DependencyLoadContext(string folder) : base("VirtTools dependencies") => _folder = folder;

    public bool Carries(AssemblyName name) => File.Exists(PathOf(name));

    /// <summary>What the folder carries; anything else (the framework) comes from the default context.</summary>
    protected override Assembly? Load(AssemblyName name) => Carries(name) ? LoadFromAssemblyPath(PathOf(name)) : null;

    private string PathOf(AssemblyName name) => Path.Combine(_folder, name.Name + ".dll");
}

namespace VirtTools.Sysfs;

/// <summary>
/// The filesystem root that /sys, /proc, /dev, /run, /etc and the ids databases are read under.
/// Every path the engine touches goes through <see cref="Resolve"/>, so the same code runs on the live
/// machine ("/") and on a captured or synthetic tree.
/// </summary>
public sealed class SystemRoot : IEquatable<SystemRoot>
{
    /// <summary>The environment variable that supplies the default root.</summary>
    public const string EnvironmentVariable = "VIRTTOOLS_ROOT";

    public static SystemRoot Live { get; } = new("/");

    public SystemRoot(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("A root path is required.", nameof(path));
        var full = System.IO.Path.GetFullPath(path);
        Path = full.Length > 1 ? full.TrimEnd('/') : full;
    }

    /// <summary>The absolute path of the root ("/" for the live machine).</summary>
    public string Path { get; }

    public bool IsLive => Path == "/";

    /// <summary>The explicit root if given, else $VIRTTOOLS_ROOT, else "/".</summary>
    public static SystemRoot FromParameter(string? root)
    {
        if (!string.IsNullOrEmpty(root)) return new SystemRoot(root);
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrEmpty(fromEnvironment) ? Live : new SystemRoot(fromEnvironment);
    }

    /// <summary>Maps an absolute system path ("/sys/bus/usb") to its place under this root.</summary>
    public string Resolve(string absolutePath)
    {
        if (IsLive) return absolutePath;
        return Path + "/" + absolutePath.TrimStart('/');
    }

    /// <summary>Maps a path under this root back to the system path it stands for ("/sys/...").</summary>
    public string ToSystemPath(string resolvedPath)
    {
        if (IsLive) return resolvedPath;
        return resolvedPath.StartsWith(Path + "/", StringComparison.Ordinal) ? resolvedPath[Path.Length..] : resolvedPath;
    }

    /// <summary>
    /// The writer every kernel-attribute write under this root goes through: a double registered for this root
    /// path with <see cref="UseWriter"/> (tests), else the real file writer.
    /// </summary>
    public IKernelWriter Writer => RegisteredWriters.TryGetValue(Path, out var writer) ? writer : new FileKernelWriter(this);

    /// <summary>
    /// Routes kernel-attribute writes for every <see cref="SystemRoot"/> of <paramref name="rootPath"/> to
    /// <paramref name="writer"/> until the returned handle is disposed. This is how a test puts a kernel double
    /// behind cmdlets that only get a -Root string. The live root "/" cannot be redirected.
    /// </summary>
    internal static IDisposable UseWriter(string rootPath, IKernelWriter writer)
    {
        var root = new SystemRoot(rootPath);
        if (root.IsLive) throw new ArgumentException("The live root's kernel writer cannot be replaced.", nameof(rootPath));
        if (!RegisteredWriters.TryAdd(root.Path, writer))
            throw new InvalidOperationException($"A kernel writer is already registered for {root.Path}.");
        return new WriterRegistration(root.Path, writer);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IKernelWriter> RegisteredWriters = new(StringComparer.Ordinal);

    private sealed class WriterRegistration(string path, IKernelWriter writer) : IDisposable
    {
        public void Dispose() => RegisteredWriters.TryRemove(new KeyValuePair<string, IKernelWriter>(path, writer));
    }

    public SysfsDirectory Directory(string absolutePath) => new(Resolve(absolutePath));

    public bool Exists(string absolutePath)
    {
        var p = Resolve(absolutePath);
        return File.Exists(p) || System.IO.Directory.Exists(p);
    }

    /// <summary>Reads a whole text file under the root; null when it is missing or unreadable.</summary>
    public string? ReadText(string absolutePath) => SysfsText.ReadFile(Resolve(absolutePath));

    public bool Equals(SystemRoot? other) => other is not null && other.Path == Path;
    public override bool Equals(object? obj) => Equals(obj as SystemRoot);
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Path);
    public override string ToString() => Path;
}

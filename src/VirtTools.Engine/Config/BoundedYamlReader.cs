using VirtTools.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace VirtTools.Config;

/// <summary>
/// Loads a profile's YAML into YamlDotNet's model within <see cref="ProfileLimits"/>. The model recurses once per
/// nesting level and walks what aliases expand to, while YamlDotNet's parser and scanner are iterative; so the model
/// is fed through a <see cref="LimitedParser"/> that sees every event first and refuses the one that goes past a
/// limit, at that event's position, before the model can recurse into it or expand it.
/// </summary>
internal static class BoundedYamlReader
{
    /// <summary>Library text quoted in a problem: YamlDotNet puts whole keys in some of its messages.</summary>
    private const int MaxQuoted = 200;

    public static YamlStream Load(string yaml, string source, CancellationToken cancellation)
    {
        if (yaml.Length > ProfileLimits.MaxBytes) throw ConfigErrors.TooLarge(source, null);
        var scanner = new Scanner(new StringReader(yaml));
        var parser = new LimitedParser(new Parser(scanner), scanner, source, cancellation);
        var stream = new YamlStream();
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            // What the model finds in events the limits let through: a duplicate key.
            throw ConfigErrors.Invalid(source, new[] { $"{parser.Locate(e.Start)}: {Quote(e.Message)}" });
        }
        catch (Exception e) when (e is not (VirtToolsException or OperationCanceledException))
        {
            // Anything else the library throws on a file's text (as its scanner does, see Advance) is the file's problem.
            throw ConfigErrors.Invalid(source, new[] { $"{parser.ScannerPlace}: the YAML is malformed here" });
        }
        return stream;
    }

    private static string Quote(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length <= MaxQuoted ? line : line[..MaxQuoted] + "...";
    }

    /// <summary>YamlDotNet's parser, with each event counted against the limits before it is passed on.</summary>
    private sealed class LimitedParser : IParser
    {
        private readonly IParser _inner;
        private readonly Scanner _scanner;
        private readonly string _source;
        private readonly CancellationToken _cancellation;
        private readonly Stack<Frame> _open = new();
        private readonly Dictionary<AnchorName, Anchored> _anchors = new();
        private long _nodes;
        private int _aliases;

        public LimitedParser(IParser inner, Scanner scanner, string source, CancellationToken cancellation)
        {
            _inner = inner;
            _scanner = scanner;
            _source = source;
            _cancellation = cancellation;
        }

        public ParsingEvent? Current => _inner.Current;

        public bool MoveNext()
        {
            _cancellation.ThrowIfCancellationRequested();
            if (!Advance()) return false;
            switch (Current)
            {
                case DocumentStart:
                    _anchors.Clear(); // anchors belong to their document
                    break;
                case Scalar scalar:
                    if (!scalar.Anchor.IsEmpty) _anchors[scalar.Anchor] = new Anchored(1, IsCollection: false);
                    Value(scalar, 1, isCollection: false);
                    break;
                case AnchorAlias alias:
                    Alias(alias);
                    break;
                case NodeEvent collection and (SequenceStart or MappingStart):
                    Open(collection);
                    break;
                case SequenceEnd or MappingEnd:
                    Close();
                    break;
            }
            return true;
        }

        /// <summary>file:line:column of a mark, or of the scanner's place when the library gave none (Mark.Empty).</summary>
        public string Locate(Mark mark)
        {
            var at = mark.Equals(Mark.Empty) ? _scanner.CurrentPosition : mark;
            return ConfigErrors.At(_source, at.Line, at.Column);
        }

        public string ScannerPlace => Locate(_scanner.CurrentPosition);

        /// <summary>
        /// The inner parser's next event; whatever it throws on the text is the file's problem, located. That is more
        /// than YamlException: YamlDotNet 16.3's scanner throws InvalidOperationException on an unclosed flow mapping
        /// followed by a key (`{a: 1` then `b: 2`), and a library's bug on a file's text must not end the process.
        /// </summary>
        private bool Advance()
        {
            try
            {
                return _inner.MoveNext();
            }
            catch (YamlException e)
            {
                throw ConfigErrors.Invalid(_source, new[] { $"{Locate(e.Start)}: {Quote(e.Message)}{UnclosedHint()}" });
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw ConfigErrors.Invalid(_source, new[] { $"{ScannerPlace}: the YAML is malformed here{UnclosedHint()}" });
            }
        }

        private string UnclosedHint()
        {
            var flow = _open.FirstOrDefault(f => f.IsFlow);
            return flow is null ? "" : $" (the '{(flow.IsMapping ? '{' : '[')}' at {flow.Start.Line}:{flow.Start.Column} is not closed)";
        }

        private void Open(NodeEvent collection)
        {
            var isMapping = collection is MappingStart;
            RequirePlainKey(collection, isCollection: true);
            if (_open.Count >= ProfileLimits.MaxDepth) throw ConfigErrors.TooDeep(_source, Locate(collection.Start));
            Count(collection, 1);
            var isFlow = collection is MappingStart { Style: MappingStyle.Flow } or SequenceStart { Style: SequenceStyle.Flow };
            _open.Push(new Frame(isMapping, isFlow, collection.Start, collection.Anchor));
        }

        private void Close()
        {
            var frame = _open.Pop();
            if (!frame.Anchor.IsEmpty) _anchors[frame.Anchor] = new Anchored(frame.Size, IsCollection: true);
            Completed(frame.Size);
        }

        private void Alias(AnchorAlias alias)
        {
            if (++_aliases > ProfileLimits.MaxAliases) throw ConfigErrors.TooManyAliases(_source, Locate(alias.Start));
            if (_open.Any(f => f.Anchor.Equals(alias.Value)))
                throw ConfigErrors.Invalid(_source, new[] { $"{Locate(alias.Start)}: *{alias.Value} stands inside the &{alias.Value} it names (a cycle)" });
            if (!_anchors.TryGetValue(alias.Value, out var anchored))
                throw ConfigErrors.Invalid(_source, new[] { $"{Locate(alias.Start)}: *{alias.Value} names no &{alias.Value} above it" });
            Value(alias, anchored.Size, anchored.IsCollection);
        }

        /// <summary>A scalar or an alias: a node that is complete as soon as it arrives.</summary>
        private void Value(ParsingEvent node, long size, bool isCollection)
        {
            RequirePlainKey(node, isCollection);
            Count(node, size);
            Completed(size);
        }

        /// <summary>
        /// Every key of the schema is a name. A list or a mapping as a key (`? [a]`, or an alias of one) is never
        /// valid, and it is what makes YamlDotNet hash, compare and print whole subtrees per key.
        /// </summary>
        private void RequirePlainKey(ParsingEvent node, bool isCollection)
        {
            if (isCollection && _open.TryPeek(out var parent) && parent.IsMapping && parent.Children % 2 == 0)
                throw ConfigErrors.Invalid(_source, new[] { $"{Locate(node.Start)}: a key must be a plain name, not a list or a mapping" });
        }

        private void Count(ParsingEvent node, long size)
        {
            _nodes += size;
            if (_nodes > ProfileLimits.MaxNodes) throw ConfigErrors.TooManyNodes(_source, Locate(node.Start));
        }

        private void Completed(long size)
        {
            if (!_open.TryPeek(out var parent)) return;
            parent.Size += size;
            parent.Children++;
        }

        private sealed class Frame(bool isMapping, bool isFlow, Mark start, AnchorName anchor)
        {
            public bool IsMapping { get; } = isMapping;
            public bool IsFlow { get; } = isFlow;
            public Mark Start { get; } = start;
            public AnchorName Anchor { get; } = anchor;

            /// <summary>This collection and everything in it, each alias counted as what it stands for.</summary>
            public long Size { get; set; } = 1;

            /// <summary>Nodes completed directly inside; in a mapping an even count means a key comes next.</summary>
            public long Children { get; set; }
        }

        private readonly record struct Anchored(long Size, bool IsCollection);
    }
}

"""Ready-made topics offered as checkboxes on the subscribe form.

The matcher never looks a subscriber's topic up here. A subscriber who ticks "Model
compression" gets exactly the label, keywords and description below as their topic, just as if
they had typed them, so these entries obey the same rules as any typed topic. The matcher reads
the whole list only as a sample of the field's topics, to tell a paper about one thing from a
paper that resembles them all (:mod:`newsletter.matching.generic`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from newsletter.preferences import TopicSpec


@dataclass(frozen=True)
class CatalogTopic:
    id: str
    label: str
    keywords: tuple[str, ...]
    description: str

    @cached_property
    def spec(self) -> TopicSpec:
        """Built once per entry: every sign-up reads the ticked entries' specs, and building
        them per post was 3% of the service's CPU under load (py-spy)."""
        return TopicSpec.build(self.label, self.keywords, description=self.description)


def _topic(id: str, label: str, keywords: str, description: str) -> CatalogTopic:
    return CatalogTopic(id, label, tuple(k.strip() for k in keywords.split(",")), description)


CATALOG: tuple[CatalogTopic, ...] = (
    _topic(
        "llm-pretraining",
        "LLM pre-training",
        "pretraining data, scaling laws, tokenizer",
        "How large language models are pre-trained: data collection and filtering, mixtures, "
        "scaling laws, tokenization and training recipes.",
    ),
    _topic(
        "instruction-tuning",
        "instruction tuning and alignment",
        "RLHF, DPO, preference optimization, reward model",
        "Making pretrained language models follow instructions "
        "and human preferences: supervised fine-tuning, RLHF, DPO and reward modelling.",
    ),
    _topic(
        "reasoning",
        "reasoning in language models",
        "chain-of-thought, math reasoning, test-time compute",
        "Multi-step reasoning in LLMs: chain-of-thought, mathematical and "
        "logical problem solving, and spending more computation at inference time.",
    ),
    _topic(
        "agents",
        "LLM agents and tool use",
        "tool use, function calling, web agents, planning",
        "Language models that act: calling tools and APIs, browsing, planning "
        "over several steps, and multi-agent systems.",
    ),
    _topic(
        "rag",
        "retrieval-augmented generation",
        "RAG, dense retrieval, embeddings, reranking",
        "Grounding generation in retrieved documents: retrievers, text "
        "embeddings, rerankers and how models use what they retrieve.",
    ),
    _topic(
        "code-llms",
        "LLMs for code",
        "code generation, program repair, code review",
        "Language models trained on or applied to source code: completion, repair, review, "
        "testing and software engineering agents.",
    ),
    _topic(
        "vision-language",
        "vision-language models",
        "CLIP, multimodal LLM, VQA, image captioning",
        "Models that jointly process images or video and text: contrastive "
        "image-text models, multimodal LLMs, their data and evaluation.",
    ),
    _topic(
        "image-generation",
        "image and video generation",
        "diffusion models, text-to-image, video generation",
        "Generating and editing images and video, mostly with diffusion "
        "and flow-matching models conditioned on text.",
    ),
    _topic(
        "speech-audio",
        "speech and audio",
        "ASR, text-to-speech, audio language models",
        "Models for spoken language and sound: speech recognition and synthesis, spoken "
        "language understanding and general audio models.",
    ),
    _topic(
        "model-compression",
        "model compression",
        "quantization, pruning, distillation",
        "Making trained models smaller or cheaper to run: quantization, pruning and sparsity, "
        "and knowledge distillation into compact students.",
    ),
    _topic(
        "efficient-training",
        "efficient training and inference",
        "mixture of experts, long context, KV cache, speculative decoding",
        "Spending less compute and memory to "
        "train and serve large models: sparse experts, efficient attention, caching and "
        "faster decoding.",
    ),
    _topic(
        "fine-tuning",
        "parameter-efficient fine-tuning",
        "LoRA, adapters, prompt tuning",
        "Adapting large pretrained models by training few parameters: low-rank adapters, "
        "prompt and prefix tuning, and model merging.",
    ),
    _topic(
        "in-context-learning",
        "in-context learning",
        "few-shot prompting, ICL, meta-learning",
        "How models learn from examples given in the prompt without weight "
        "updates, and methods built on in-context demonstrations.",
    ),
    _topic(
        "continual-learning",
        "continual learning",
        "catastrophic forgetting, class-incremental learning, continual pre-training",
        "Learning from a sequence of "
        "tasks or a changing data stream without forgetting earlier knowledge.",
    ),
    _topic(
        "safety",
        "AI safety and security",
        "jailbreaks, red teaming, adversarial attacks, unlearning",
        "Attacks on and defences of AI systems: jailbreaks, prompt injection, "
        "harmful outputs, machine unlearning and privacy of training data.",
    ),
    _topic(
        "interpretability",
        "interpretability",
        "mechanistic interpretability, probing, attribution",
        "Understanding what models compute: probing representations, circuits "
        "and features, attribution and explanations.",
    ),
    _topic(
        "evaluation",
        "benchmarks and evaluation",
        "benchmark, leaderboard, LLM-as-a-judge",
        "New benchmarks and datasets, evaluation methodology, contamination and judging "
        "model outputs with other models.",
    ),
    _topic(
        "multilingual",
        "multilingual and low-resource NLP",
        "low-resource languages, machine translation, cross-lingual transfer",
        "Language technology beyond English: "
        "multilingual models, translation and languages with little data.",
    ),
    _topic(
        "medical-ai",
        "medical AI",
        "clinical NLP, medical imaging, biomedicine",
        "Machine learning for medicine and the life sciences: clinical text, biomedical "
        "language models, medical images, drug design and genomics.",
    ),
    _topic(
        "science-ai",
        "AI for science",
        "protein, molecules, materials, weather forecasting",
        "Machine learning applied to the natural sciences: proteins and molecules, materials, "
        "physics simulation and climate.",
    ),
    _topic(
        "reinforcement-learning",
        "reinforcement learning",
        "policy optimization, offline RL, reward",
        "Learning to act from reward: policy and value methods, offline "
        "and model-based RL, exploration.",
    ),
    _topic(
        "robotics",
        "robotics and embodied AI",
        "robot learning, manipulation, vision-language-action",
        "Learning for robots and embodied agents: manipulation, "
        "navigation, world models and vision-language-action policies.",
    ),
    _topic(
        "3d-vision",
        "3D vision",
        "NeRF, Gaussian splatting, point clouds, 3D reconstruction",
        "Perceiving and generating 3D scenes and objects: neural radiance fields, Gaussian "
        "splatting, point clouds and depth.",
    ),
    _topic(
        "self-supervised",
        "self-supervised representation learning",
        "contrastive learning, masked autoencoders, representation learning",
        "Learning general "
        "representations from unlabeled data: contrastive, masked and predictive objectives.",
    ),
    _topic(
        "graphs",
        "graph neural networks",
        "GNN, knowledge graphs, graph learning",
        "Learning on graphs and relational data: graph neural networks, knowledge graphs and "
        "graph foundation models.",
    ),
)

BY_ID = {topic.id: topic for topic in CATALOG}
